// Goal: DIR/identity round-trips and refuses a damaged file or another version; the removed mark
// and the Raft-state check see what is on disk; the members view frame round-trips and refuses
// malformed input.
// Method: files in a fresh temporary directory; frames built by hand.
#include "node/data_dir_state.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "node/raft_codec.h"

namespace nds::node {
namespace {

std::string TempDir() {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("nds-dds-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Identity, RoundTripsAndRefusesDamageAndOtherVersions) {
  NodeIdentity id{"n2", "0.0.0.0:7777", "0.0.0.0:7778", "host:7777", "host:7778"};
  std::string bytes = EncodeIdentity(id);
  auto back = DecodeIdentity(bytes, "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, id);

  std::string flipped = bytes;
  flipped[flipped.find("n2")] = 'm';
  EXPECT_EQ(DecodeIdentity(flipped, "x").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeIdentity(bytes.substr(0, bytes.size() - 3), "x").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(DecodeIdentity("", "x").status().code(), StatusCode::kCorruption);

  std::string v2 = bytes;
  v2.replace(v2.find(" 1\n"), 3, " 2\n");
  auto other = DecodeIdentity(v2, "x");  // the checksum fails first: a real v2 file says so
  EXPECT_FALSE(other.ok());

  const std::string dir = TempDir();
  auto none = ReadIdentity(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteIdentity(dir, id).ok());
  auto read = ReadIdentity(dir);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, id);
  EXPECT_EQ(std::filesystem::status(dir + "/identity").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_FALSE(WriteIdentity(dir, {"a\nb", "x:1", "x:2", "x:1", "x:2"}).ok());
  std::filesystem::remove_all(dir);
}

TEST(DataDirState, TheRemovedMarkAndRaftStateAreSeen) {
  const std::string dir = TempDir();
  EXPECT_FALSE(RemovedMark(dir).has_value());
  EXPECT_TRUE(RaftStateIn(dir).empty());
  std::filesystem::create_directories(dir + "/wal");
  EXPECT_TRUE(RaftStateIn(dir).empty()) << "an empty wal/ holds nothing";
  std::ofstream(dir + "/wal/000001.log") << "x";
  EXPECT_EQ(RaftStateIn(dir), std::vector<std::string>{"wal"});
  ASSERT_TRUE(MarkRemoved(dir, 7, "c-1").ok());
  auto mark = RemovedMark(dir);
  ASSERT_TRUE(mark.has_value());
  EXPECT_NE(mark->find("node 7"), std::string::npos) << *mark;
  std::filesystem::remove_all(dir);
}

TEST(MembersView, RoundTripsAndRefusesMalformedFrames) {
  std::vector<MemberHealth> view = {{1, true, 0}, {2, false, 1234567}};
  std::string frame = EncodeMembersViewFrame(view);
  auto kind = PeekFrameKind(frame);
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, FrameKind::kMembersView);
  auto back = DecodeMembersViewFrame(frame);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, view);
  EXPECT_FALSE(DecodeMembersViewFrame(frame + "x").ok());
  EXPECT_FALSE(DecodeMembersViewFrame(frame.substr(0, frame.size() - 1)).ok());
  std::string bad_flag = EncodeMembersViewFrame({{1, true, 0}});
  bad_flag[4] = 7;  // kind, version, count, id, then the flag
  EXPECT_FALSE(DecodeMembersViewFrame(bad_flag).ok());
  std::string huge = frame.substr(0, 2);
  huge += '\xff';
  huge += '\x7f';  // a count of 16383
  EXPECT_FALSE(DecodeMembersViewFrame(huge).ok());
}

}  // namespace
}  // namespace nds::node
