#include "knobs.h"

#include <sstream>
#include <stdexcept>

namespace sepconv::schedules {

Knobs Knobs::parse(const std::string &text) {
    Knobs knobs;
    std::stringstream entries(text);
    std::string entry;
    while (std::getline(entries, entry, ',')) {
        if (entry.empty()) continue;
        const size_t eq = entry.find('=');
        size_t used = 0;
        int value = 0;
        bool ok = eq != std::string::npos && eq > 0 && eq + 1 < entry.size();
        if (ok) {
            try {
                value = std::stoi(entry.substr(eq + 1), &used);
            } catch (const std::exception &) {
                ok = false;
            }
            ok = ok && used == entry.size() - eq - 1;
        }
        if (!ok) {
            throw std::invalid_argument("schedule knobs: expected name=integer, got '" + entry + "' in '" + text + "'");
        }
        knobs.values_[entry.substr(0, eq)] = value;
    }
    return knobs;
}

int Knobs::get(const std::string &name, int hand_value) const {
    read_.insert(name);
    auto it = values_.find(name);
    return it == values_.end() ? hand_value : it->second;
}

void Knobs::check_all_read(const std::string &schedule_name) const {
    std::string unread;
    for (const auto &[name, value] : values_) {
        if (!read_.count(name)) unread += (unread.empty() ? "" : ", ") + name;
    }
    if (!unread.empty()) {
        throw std::invalid_argument("schedule knobs: " + schedule_name + " has no knob named " + unread);
    }
}

std::string Knobs::str() const {
    std::string out;
    for (const auto &[name, value] : values_) out += (out.empty() ? "" : ",") + name + "=" + std::to_string(value);
    return out;
}

}  // namespace sepconv::schedules
