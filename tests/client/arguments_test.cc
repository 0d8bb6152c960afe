#include "client/cli/arguments.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Words = std::vector<std::string>;

TEST(ParseWord, JsonWordsAreTheirValue) {
  EXPECT_EQ(*ParseWord("1"), Value(1));
  EXPECT_EQ(*ParseWord("2.5"), Value(2.5));
  EXPECT_EQ(*ParseWord("true"), Value(true));
  EXPECT_EQ(*ParseWord("null"), Value());
  EXPECT_EQ(*ParseWord("\"7\""), Value("7"));
  EXPECT_EQ(*ParseWord("[1,\"a\"]"), Value(ValueList{1, "a"}));
  EXPECT_EQ(*ParseWord("{\"k\":1}"), Value(ValueMap{{"k", 1}}));
}

TEST(ParseWord, OtherWordsAreStrings) {
  EXPECT_EQ(*ParseWord("hello"), Value("hello"));
  EXPECT_EQ(*ParseWord("sub-01.nii"), Value("sub-01.nii"));
  EXPECT_EQ(*ParseWord("1,2]"), Value("1,2]"));
  EXPECT_EQ(*ParseWord(""), Value(""));
}

TEST(ParseWord, AWordThatStartsLikeJsonButIsNotIsAnError) {
  for (const char* word : {"[1,2", "{bad", "\"unterminated"}) {
    absl::StatusOr<Value> value = ParseWord(word);
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument) << word;
    EXPECT_THAT(value.status().message(), HasSubstr(word));
  }
}

// Every item `reader` gives until its end or its first error.
struct ReadAll {
  std::vector<ValueList> items;
  absl::Status error;
};
ReadAll Drain(ItemReader reader) {
  ReadAll all;
  while (true) {
    absl::StatusOr<std::optional<ValueList>> item = reader.Next();
    if (!item.ok()) {
      all.error = item.status();
      EXPECT_FALSE(reader.Next()->has_value()) << "the reader goes on after an error";
      return all;
    }
    if (!item->has_value()) return all;
    all.items.push_back(**item);
  }
}

TEST(ItemReader, JsonLinesAreOneArgumentEachSkippingBlankOnes) {
  std::istringstream in("1\n\n   \n\"a\"\r\n[1, 2]\n{\"k\": null}");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kValue));
  ASSERT_TRUE(all.error.ok()) << all.error;
  EXPECT_THAT(all.items, ElementsAre(ValueList{1}, ValueList{"a"}, ValueList{ValueList{1, 2}},
                                     ValueList{ValueMap{{"k", Value()}}}));
}

TEST(ItemReader, NonJsonLineIsAnErrorNamingItsLineAfterTheItemsBeforeIt) {
  std::istringstream in("1\n\nhello\n3\n");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kValue));
  EXPECT_THAT(all.items, ElementsAre(ValueList{1}));
  EXPECT_EQ(all.error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(all.error.message()), HasSubstr("line 3"));
}

TEST(ItemReader, EmptyInputIsNoItems) {
  std::istringstream in("");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kValue));
  EXPECT_TRUE(all.error.ok());
  EXPECT_TRUE(all.items.empty());
}

TEST(ItemReader, ArgumentListLinesAreJsonArrays) {
  std::istringstream in("[\"a.nii\", 2]\n[]\n");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kArgumentList));
  ASSERT_TRUE(all.error.ok()) << all.error;
  EXPECT_THAT(all.items, ElementsAre(ValueList{"a.nii", 2}, ValueList{}));
}

TEST(ItemReader, ArgumentListLineThatIsNotAnArrayIsAnError) {
  std::istringstream in("[1]\n5\n");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kArgumentList));
  EXPECT_EQ(all.error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(all.error.message()), HasSubstr("line 2"));
}

TEST(ItemReader, TextLinesAreTakenAsTheyAre) {
  std::istringstream in("a b.nii\r\n\n[1,2\n");
  ReadAll all = Drain(ItemReader::FromLines(&in, ItemFormat::kText));
  ASSERT_TRUE(all.error.ok()) << all.error;
  EXPECT_THAT(all.items, ElementsAre(ValueList{"a b.nii"}, ValueList{"[1,2"}));
}

TEST(ItemReader, WordsAreJsonOrStringsOrTakenAsTheyAre) {
  EXPECT_THAT(Drain(ItemReader::FromWords({"1", "x", "[2]"}, ItemFormat::kValue)).items,
              ElementsAre(ValueList{1}, ValueList{"x"}, ValueList{ValueList{2}}));
  EXPECT_THAT(Drain(ItemReader::FromWords({"1", "x"}, ItemFormat::kText)).items,
              ElementsAre(ValueList{"1"}, ValueList{"x"}));
  ReadAll bad = Drain(ItemReader::FromWords({"1", "[2", "3"}, ItemFormat::kValue));
  EXPECT_THAT(bad.items, ElementsAre(ValueList{1}));
  EXPECT_THAT(bad.error.message(), HasSubstr("[2"));
  EXPECT_THAT(Drain(ItemReader::FromWords({"[2"}, ItemFormat::kText)).items,
              ElementsAre(ValueList{"[2"}));
}

TEST(CountItemLines, CountsLinesThatAreNotBlank) {
  const std::string path = ::testing::TempDir() + "/count_item_lines.txt";
  std::ofstream(path) << "1\n\n2\n  \n3";
  EXPECT_EQ(*CountItemLines(path), 3u);
  EXPECT_EQ(CountItemLines(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(IsCommandForm, DashesBeforeAnyPositionalMeanACommand) {
  EXPECT_TRUE(IsCommandForm({"map", "--", "gzip", "{}", ":::", "a"}, 4));
  EXPECT_TRUE(IsCommandForm(
      {"--scheduler", "h:1", "map", "--unordered", "--", "echo", ":::", "a", "b"}, 4));
}

TEST(IsCommandForm, FunctionBeforeDashesIsTheFunctionForm) {
  // `map square -- -5 -3`: "--" only lets items look like flags.
  EXPECT_FALSE(IsCommandForm({"map", "square", "--", "-5", "-3"}, 3));
  EXPECT_FALSE(IsCommandForm({"map", "square", "1", "2"}, 3));
}

TEST(SplitMapWords, FunctionWithArguments) {
  absl::StatusOr<MapWords> words = SplitMapWords({"square", "1", "2"}, false);
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(words->function, "square");
  EXPECT_THAT(*words->items, ElementsAre("1", "2"));
}

TEST(SplitMapWords, FunctionWithItemsAfterSeparator) {
  absl::StatusOr<MapWords> words = SplitMapWords({"square", ":::", "1", "2"}, false);
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(words->function, "square");
  EXPECT_THAT(*words->items, ElementsAre("1", "2"));

  words = SplitMapWords({"square", ":::"}, false);
  ASSERT_TRUE(words.ok());
  ASSERT_TRUE(words->items.has_value());
  EXPECT_TRUE(words->items->empty());
}

TEST(SplitMapWords, FunctionAloneReadsStandardInput) {
  absl::StatusOr<MapWords> words = SplitMapWords({"square"}, false);
  ASSERT_TRUE(words.ok());
  EXPECT_FALSE(words->items.has_value());
}

TEST(SplitMapWords, MalformedFunctionFormsAreErrors) {
  EXPECT_FALSE(SplitMapWords({}, false).ok());
  EXPECT_FALSE(SplitMapWords({":::", "1"}, false).ok());
  EXPECT_FALSE(SplitMapWords({"square", "extra", ":::", "1"}, false).ok());
}

TEST(SplitMapWords, CommandWithItems) {
  absl::StatusOr<MapWords> words =
      SplitMapWords({"gzip", "-9", "{}", ":::", "a.nii", "b.nii"}, true);
  ASSERT_TRUE(words.ok());
  EXPECT_TRUE(words->function.empty());
  EXPECT_THAT(words->command, ElementsAre("gzip", "-9", "{}"));
  EXPECT_THAT(*words->items, ElementsAre("a.nii", "b.nii"));
}

TEST(SplitMapWords, CommandWithoutItemsReadsThemFromInputLines) {
  absl::StatusOr<MapWords> words = SplitMapWords({"gzip", "{}"}, true);
  ASSERT_TRUE(words.ok());
  EXPECT_THAT(words->command, ElementsAre("gzip", "{}"));
  EXPECT_FALSE(words->items.has_value());
}

TEST(SplitMapWords, CommandNeedsAWord) {
  EXPECT_FALSE(SplitMapWords({":::", "a"}, true).ok());
}

TEST(BuildCommand, ReplacesEveryPlaceholder) {
  EXPECT_THAT(BuildCommand({"cp", "{}", "out/{}.bak"}, "a.nii", 1),
              ElementsAre("cp", "a.nii", "out/a.nii.bak"));
}

TEST(BuildCommand, AppendsTheItemWithoutPlaceholder) {
  EXPECT_THAT(BuildCommand({"gzip", "-9"}, "a.nii", 1), ElementsAre("gzip", "-9", "a.nii"));
}

// The replacement strings as GNU parallel 20221122 expands them (checked
// with `parallel echo ... ::: ITEM`).
TEST(BuildCommand, ExpandsGnuParallelReplacementStrings) {
  auto expand = [](const std::string& word, const std::string& item) {
    return BuildCommand({word}, item, 7).front();
  };
  EXPECT_EQ(expand("{.}", "dir.d/a.tar.gz"), "dir.d/a.tar");
  EXPECT_EQ(expand("{.}", "dir.d/file"), "dir.d/file");
  EXPECT_EQ(expand("{.}", ".bashrc"), "");
  EXPECT_EQ(expand("{/}", "x/y/a.b"), "a.b");
  EXPECT_EQ(expand("{/}", "x/y/"), "");
  EXPECT_EQ(expand("{//}", "a"), ".");
  EXPECT_EQ(expand("{//}", "x/y/a.b"), "x/y");
  EXPECT_EQ(expand("{//}", "x//a"), "x");
  EXPECT_EQ(expand("{//}", "x/y/"), "x");
  EXPECT_EQ(expand("{//}", "/a"), "/");
  EXPECT_EQ(expand("{//}", "/"), "/");
  EXPECT_EQ(expand("{/.}", "x.d/a.b.c"), "a.b");
  EXPECT_EQ(expand("{#}-{}", "a"), "7-a");
  EXPECT_EQ(expand("{{}}{x}{/.", "a"), "{a}{x}{/.");
}

TEST(BuildCommand, AnyReplacementStringKeepsTheItemFromBeingAppended) {
  EXPECT_THAT(BuildCommand({"echo", "{#}"}, "a", 3), ElementsAre("echo", "3"));
  EXPECT_THAT(BuildCommand({"echo", "{/.}"}, "d/a.b", 3), ElementsAre("echo", "a"));
}

TEST(ParseDurationWord, TakesDurationsAndBareSeconds) {
  EXPECT_EQ(*ParseDurationWord("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseDurationWord("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDurationWord("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDurationWord("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseDurationWord("2.5"), absl::Milliseconds(2500));
  EXPECT_EQ(*ParseDurationWord("inf"), absl::InfiniteDuration());
}

TEST(ParseDurationWord, RejectsWhatIsNoDurationAndNegativeOnes) {
  for (const char* word : {"", "soon", "30 s", "nan", "-1", "-2s"}) {
    absl::StatusOr<absl::Duration> parsed = ParseDurationWord(word);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << word;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(word)) << word;
  }
}

TEST(ParseLabel, SplitsAtTheFirstEquals) {
  EXPECT_EQ(*ParseLabel("gpu=a100"), std::make_pair(std::string("gpu"), std::string("a100")));
  EXPECT_EQ(*ParseLabel("k=a=b"), std::make_pair(std::string("k"), std::string("a=b")));
  EXPECT_EQ(*ParseLabel("k="), std::make_pair(std::string("k"), std::string()));
}

TEST(ParseLabel, RejectsAWordWithoutKeyOrEquals) {
  for (const std::string word : {"gpu", "=a100", ""}) {
    absl::StatusOr<std::pair<std::string, std::string>> label = ParseLabel(word);
    EXPECT_EQ(label.status().code(), absl::StatusCode::kInvalidArgument) << word;
    EXPECT_THAT(std::string(label.status().message()), HasSubstr("KEY=VALUE")) << word;
  }
}

}  // namespace
}  // namespace cli
}  // namespace netpool
