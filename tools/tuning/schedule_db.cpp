#include "schedule_db.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace sepconv::tuning {
namespace {

using json = nlohmann::ordered_json;
constexpr const char *kFormat = "sepconv-schedule-db/1";

json entry_to_json(const DbEntry &e) {
    json j;
    j["op"] = e.op;
    j["variant"] = e.variant;
    j["target_class"] = e.target_class;
    j["target"] = e.target;
    j["schedule_fingerprint"] = e.schedule_fingerprint;
    j["knobs"] = json::object();
    for (const auto &[k, v] : e.knobs) j["knobs"][k] = v;
    j["speedup"] = e.speedup;
    j["noise"] = e.noise;
    j["layers"] = json::array();
    for (const LayerTime &l : e.layers) {
        j["layers"].push_back({{"suite", l.suite},
                               {"layer", l.layer},
                               {"shape", l.shape},
                               {"default_ms", l.default_ms},
                               {"tuned_ms", l.tuned_ms}});
    }
    j["baselines"] = json::array();
    for (const Baseline &b : e.baselines) {
        json bj = {{"name", b.name}};
        if (b.error.empty()) {
            bj["geomean_ratio_vs_default"] = b.ratio;
        } else {
            bj["error"] = b.error;
        }
        j["baselines"].push_back(bj);
    }
    j["candidates_tried"] = e.candidates_tried;
    j["candidates_rejected"] = e.candidates_rejected;
    j["tuning_seconds"] = e.tuning_seconds;
    return j;
}

DbEntry entry_from_json(const json &j) {
    DbEntry e;
    e.op = j.at("op").get<std::string>();
    e.variant = j.at("variant").get<std::string>();
    e.target_class = j.at("target_class").get<std::string>();
    e.target = j.value("target", "");
    e.schedule_fingerprint = j.value("schedule_fingerprint", "");
    for (const auto &[k, v] : j.at("knobs").items()) e.knobs[k] = v.get<int>();
    e.speedup = j.value("speedup", 1.0);
    e.noise = j.value("noise", 0.0);
    for (const json &l : j.value("layers", json::array())) {
        e.layers.push_back({l.value("suite", ""), l.value("layer", ""), l.value("shape", ""),
                            l.value("default_ms", 0.0), l.value("tuned_ms", 0.0)});
    }
    for (const json &b : j.value("baselines", json::array())) {
        e.baselines.push_back({b.value("name", ""), b.value("geomean_ratio_vs_default", 0.0), b.value("error", "")});
    }
    e.candidates_tried = j.value("candidates_tried", 0);
    e.candidates_rejected = j.value("candidates_rejected", 0);
    e.tuning_seconds = j.value("tuning_seconds", 0.0);
    return e;
}

}  // namespace

std::string DbEntry::knob_string() const {
    std::string out;
    for (const auto &[k, v] : knobs) out += (out.empty() ? "" : ",") + k + "=" + std::to_string(v);
    return out;
}

const DbEntry *ScheduleDb::find(const std::string &key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
}

std::string ScheduleDb::to_json() const {
    json j;
    j["format"] = kFormat;
    j["entries"] = json::object();
    for (const auto &[key, e] : entries_) j["entries"][key] = entry_to_json(e);
    return j.dump(2) + "\n";
}

ScheduleDb ScheduleDb::from_json(const std::string &text) {
    const json j = json::parse(text);
    if (j.value("format", "") != kFormat) {
        throw std::runtime_error("schedule database: format is '" + j.value("format", "") + "', expected '" +
                                 kFormat + "'");
    }
    ScheduleDb db;
    for (const auto &[key, value] : j.at("entries").items()) {
        DbEntry e = entry_from_json(value);
        if (e.key() != key) {
            throw std::runtime_error("schedule database: entry '" + key + "' describes '" + e.key() + "'");
        }
        db.put(e);
    }
    return db;
}

ScheduleDb ScheduleDb::load(const std::string &path) {
    std::ifstream in(path);
    if (!in) return {};
    std::stringstream text;
    text << in.rdbuf();
    try {
        return from_json(text.str());
    } catch (const std::exception &e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

void ScheduleDb::save(const std::string &path) const {
    const std::string tmp = path + ".tmp";
    if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
        std::filesystem::create_directories(dir);
    }
    {
        std::ofstream out(tmp);
        out << to_json();
        if (!out) throw std::runtime_error("schedule database: cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace sepconv::tuning
