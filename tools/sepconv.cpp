// sepconv: the command-line front end. Dispatches to the registered
// subcommands (tools/*_command.cpp).
#include "command.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace sepconv::tools {

std::vector<Command> &commands() {
    static std::vector<Command> all;
    return all;
}

}  // namespace sepconv::tools

namespace {

void print_usage(FILE *to) {
    auto all = sepconv::tools::commands();
    std::sort(all.begin(), all.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
    std::fprintf(to, "usage: sepconv <command> [options]   (sepconv <command> --help for its options)\n\ncommands:\n");
    for (const auto &c : all) std::fprintf(to, "  %-10s %s\n", c.name.c_str(), c.summary.c_str());
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const auto &c : sepconv::tools::commands()) {
        if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
    }
    std::fprintf(stderr, "sepconv: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
