// Schedule knobs: the text form the generators, the tuner and the schedule
// database share.
#include "knobs.h"

#include <gtest/gtest.h>

#include <stdexcept>

using sepconv::schedules::Knobs;

TEST(Knobs, UnsetKnobTakesTheHandValue) {
    const Knobs knobs = Knobs::parse("");
    EXPECT_EQ(knobs.get("dw_columns", 16), 16);
    EXPECT_NO_THROW(knobs.check_all_read("depthwise"));
}

TEST(Knobs, ParseAndPrintRoundTrip) {
    const Knobs knobs = Knobs::parse("pw_vectors=2,dw_columns=8,fused_per_task=-1");
    EXPECT_EQ(knobs.get("dw_columns", 16), 8);
    EXPECT_EQ(knobs.get("pw_vectors", 4), 2);
    EXPECT_EQ(knobs.get("fused_per_task", 0), -1);
    EXPECT_EQ(knobs.str(), "dw_columns=8,fused_per_task=-1,pw_vectors=2");
    EXPECT_EQ(Knobs::parse(knobs.str()).values(), knobs.values());
}

TEST(Knobs, MalformedEntryIsNamed) {
    for (const char *bad : {"dw_columns", "=3", "dw_columns=", "dw_columns=3x", "dw_columns=three"}) {
        try {
            Knobs::parse(std::string("pw_vectors=2,") + bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::invalid_argument &e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
        }
    }
}

TEST(Knobs, KnobTheScheduleNeverReadsIsAnError) {
    const Knobs knobs = Knobs::parse("dw_columns=8,dw_colums=4");
    knobs.get("dw_columns", 16);
    try {
        knobs.check_all_read("depthwise");
        FAIL() << "a misspelt knob was ignored";
    } catch (const std::invalid_argument &e) {
        EXPECT_NE(std::string(e.what()).find("dw_colums"), std::string::npos) << e.what();
    }
}
