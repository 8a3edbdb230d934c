// The `sepconv` command-line program is a list of subcommands
// (`sepconv generate`, `sepconv tune`, `sepconv run`), each in its own file,
// registering itself here at start-up.
#pragma once

#include <string>
#include <vector>

namespace sepconv::tools {

struct Command {
    std::string name;     // as typed after `sepconv`
    std::string summary;  // one line for `sepconv --help`
    // Arguments after the command name (argv[0] is the command name).
    int (*run)(int argc, char **argv);
};

std::vector<Command> &commands();

// `static const RegisterCommand registered{{"name", "summary", &run}};` in a
// command's file adds it to `commands()`.
struct RegisterCommand {
    explicit RegisterCommand(Command command) { commands().push_back(std::move(command)); }
};

}  // namespace sepconv::tools
