// Goal: store commands survive encoding, apply with the right preconditions and revisions (also
// several in one batch), and scans see one consistent view in key order.
// Method: encode/decode round trips and hostile bytes; BatchApplier over the in-memory engine.
#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/auth_state.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "store/membership.h"
#include "store/scanner.h"
#include "util/coding.h"

namespace nds::store {
namespace {

TEST(Command, RoundTripsEveryType) {
  for (const Command& c :
       {PutCommand("a/b", std::string("v\0x", 3), "text/plain", Precondition::kRevisionEquals, 7),
        DeleteCommand("k"), ClearCommand(), PutSecretCommand(std::string(32, 'L'), "blob"),
        PutSystemCommand(MemberKeyName(3), "info"), DeleteSystemCommand("x"),
        AddMemberCommand({0, "n2", "10.0.0.2:7000", "10.0.0.2:7777"}),
        RemoveMemberCommand(UINT64_MAX)}) {
    std::string buf;
    EncodeCommand(c, &buf);
    auto back = DecodeCommand(buf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(Command, HostileBytesAreCorruptionNeverACrash) {
  std::string good;
  EncodeCommand(PutCommand("key", "value"), &good);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeCommand(good.substr(0, n)).ok()) << n;  // every truncation
  }
  EXPECT_FALSE(DecodeCommand(good + "x").ok());  // trailing garbage
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_EQ(DecodeCommand(bad_version).status().code(), StatusCode::kCorruption);
  std::string bad_type = good;
  bad_type[1] = 77;
  EXPECT_FALSE(DecodeCommand(bad_type).ok());
}

TEST(Command, MemberCommandsCarryTheirFieldsAndNothingElse) {
  Command add = AddMemberCommand({99, "n2", "h:1", "h:2"});
  EXPECT_EQ(DecodeMemberRecord(add.value)->id, 0u);  // the id is the log index, not the caller's
  std::string remove;
  EncodeCommand(RemoveMemberCommand(5), &remove);
  EXPECT_EQ(DecodeCommand(remove)->member_id, 5u);
  EXPECT_EQ(DecodeCommand(remove)->expected_revision, 0u);

  // A member command with fields it does not use, or a record that is no record, is corruption.
  Command with_key = add;
  with_key.key = "k";
  Command with_pre = add;
  with_pre.precondition = Precondition::kMustExist;
  Command bad_record = add;
  bad_record.value = "junk";
  Command remove_with_value = RemoveMemberCommand(5);
  remove_with_value.value = "v";
  for (const Command& c : {with_key, with_pre, bad_record, remove_with_value}) {
    std::string buf;
    EncodeCommand(c, &buf);
    EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption);
  }
  std::string unknown;
  EncodeCommand(RemoveMemberCommand(1), &unknown);
  unknown[1] = 9;
  EXPECT_EQ(DecodeCommand(unknown).status().code(), StatusCode::kCorruption);
}

TEST(Command, VersionOneBytesOfEarlierTypesStillDecode) {
  // Bytes as the first release wrote them: version 1, put, must_not_exist, revision 0, "k", "",
  // "v". Adding the member types must not change how they read.
  const std::string old_put("\x01\x01\x01\x00\x01k\x00\x01v", 9);
  auto c = DecodeCommand(old_put);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, PutCommand("k", "v", "", Precondition::kMustNotExist));
}

TEST(MemberRecord, RoundTripsAndRejectsDamage) {
  MemberRecord r{12, "node-2", "10.1.2.3:7000", "[::1]:7777"};
  std::string bytes = EncodeMemberRecord(r);
  auto back = DecodeMemberRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeMemberRecord(bytes.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeMemberRecord(bytes + "x").status().code(), StatusCode::kCorruption);
  std::string bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_EQ(DecodeMemberRecord(bad_version).status().code(), StatusCode::kCorruption);
}

TEST(MemberRecord, FieldLengthsAreCheckedOnValidateAndDecode) {
  const std::string name_max(kMemberNameBytesMax, 'n');
  const std::string address_max(kMemberAddressBytesMax, 'a');
  EXPECT_TRUE(ValidateMemberRecord({1, name_max, address_max, address_max}).ok());
  const MemberRecord bad[] = {
      {1, "", "h:1", "h:2"}, {1, name_max + "n", "h:1", "h:2"},
      {1, "n", "", "h:2"},   {1, "n", address_max + "a", "h:2"},
      {1, "n", "h:1", ""},   {1, "n", "h:1", address_max + "a"},
  };
  for (const MemberRecord& r : bad) {
    EXPECT_EQ(ValidateMemberRecord(r).code(), StatusCode::kInvalidArgument) << r.name.size();
    // The same record written by hand (the encoder refuses it) decodes as corruption.
    std::string bytes(1, '\x01');
    PutVarint64(&bytes, r.id);
    PutLengthPrefixed(&bytes, r.name);
    PutLengthPrefixed(&bytes, r.peer_address);
    PutLengthPrefixed(&bytes, r.api_address);
    EXPECT_EQ(DecodeMemberRecord(bytes).status().code(), StatusCode::kCorruption);
  }
}

TEST(MemberRecord, EntryNameMustMatchTheRecord) {
  std::string bytes = EncodeMemberRecord({7, "n", "h:1", "h:2"});
  EXPECT_EQ(DecodeMemberEntry(MemberKeyName(7), bytes)->id, 7u);
  EXPECT_EQ(DecodeMemberEntry(MemberKeyName(8), bytes).status().code(), StatusCode::kCorruption);
  for (std::string_view name : {"member/7", "member/0000000000000000000x",
                                "member/99999999999999999999", "other/00000000000000000007"}) {
    EXPECT_EQ(DecodeMemberEntry(name, bytes).status().code(), StatusCode::kCorruption) << name;
  }
  EXPECT_EQ(*ParseMemberKeyName(MemberKeyName(UINT64_MAX)), UINT64_MAX);
}

TEST(Record, RoundTripsAndRejectsUnknownVersions) {
  std::string r = EncodeRecord(42, "image/png", std::string("\0\1", 2));
  auto v = DecodeRecord(r);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->revision, 42u);
  EXPECT_EQ(v->content_type, "image/png");
  EXPECT_EQ(v->value, std::string("\0\1", 2));
  r[0] = 2;
  EXPECT_FALSE(DecodeRecord(r).ok());
}

class ApplierTest : public ::testing::Test {
 protected:
  ApplyResult ApplyOne(const Command& c) {
    BatchApplier a(engine_.get());
    ApplyResult r = a.Apply(c, next_.Next());
    next_ = next_.Next();
    EXPECT_TRUE(a.Commit(engine_.get(), true).ok());
    return r;
  }
  std::optional<uint64_t> RevisionOf(std::string_view key) {
    auto bytes = engine_->Get(DataKey(key));
    if (!bytes.ok() || !*bytes) return std::nullopt;
    return DecodeRecord(**bytes)->revision;
  }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  LogIndex next_{0};
};

TEST_F(ApplierTest, PutCreatesThenReplacesWithTheIndexAsRevision) {
  ApplyResult r1 = ApplyOne(PutCommand("k", "v1"));
  EXPECT_TRUE(r1.status.ok());
  EXPECT_TRUE(r1.created);
  EXPECT_EQ(r1.revision, 1u);
  ApplyResult r2 = ApplyOne(PutCommand("k", "v2"));
  EXPECT_FALSE(r2.created);
  EXPECT_EQ(RevisionOf("k"), 2u);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(2));
}

TEST_F(ApplierTest, PreconditionsDecideAndFailuresChangeNothing) {
  EXPECT_TRUE(ApplyOne(PutCommand("k", "v", "", Precondition::kMustNotExist)).status.ok());
  EXPECT_EQ(ApplyOne(PutCommand("k", "w", "", Precondition::kMustNotExist)).status.code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ApplyOne(PutCommand("k", "w", "", Precondition::kRevisionEquals, 99)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(RevisionOf("k"), 1u);
  EXPECT_TRUE(ApplyOne(PutCommand("k", "w", "", Precondition::kRevisionEquals, 1)).status.ok());
  EXPECT_EQ(ApplyOne(DeleteCommand("missing")).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(ApplyOne(DeleteCommand("missing", Precondition::kRevisionEquals, 1)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyOne(DeleteCommand("k", Precondition::kRevisionEquals, 1)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ApplyOne(DeleteCommand("k", Precondition::kRevisionEquals, 4)).status.ok());
  EXPECT_EQ(RevisionOf("k"), std::nullopt);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(8));  // failed commands consumed their index
}

TEST_F(ApplierTest, LaterCommandsInOneBatchSeeEarlierOnes) {
  BatchApplier a(engine_.get());
  EXPECT_TRUE(
      a.Apply(PutCommand("x", "1", "", Precondition::kMustNotExist), LogIndex(1)).status.ok());
  EXPECT_EQ(
      a.Apply(PutCommand("x", "2", "", Precondition::kMustNotExist), LogIndex(2)).status.code(),
      StatusCode::kAlreadyExists);
  EXPECT_TRUE(
      a.Apply(PutCommand("x", "3", "", Precondition::kRevisionEquals, 1), LogIndex(3)).status.ok());
  EXPECT_TRUE(a.Apply(DeleteCommand("x"), LogIndex(4)).status.ok());
  EXPECT_EQ(a.Apply(DeleteCommand("x"), LogIndex(5)).status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(a.Apply(PutCommand("y", "1"), LogIndex(6)).status.ok());
  a.Skip(LogIndex(7));
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(RevisionOf("x"), std::nullopt);
  EXPECT_EQ(RevisionOf("y"), 6u);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(7));
}

TEST_F(ApplierTest, ClearRemovesUserKeysButNotSecrets) {
  ApplyOne(PutCommand("a", "1"));
  ApplyOne(PutCommand("b", "2"));
  ApplyOne(PutSecretCommand("loc", "blob"));
  ApplyOne(PutSystemCommand(MemberKeyName(1), "me"));
  BatchApplier a(engine_.get());
  EXPECT_TRUE(a.Apply(ClearCommand(), LogIndex(5)).status.ok());
  EXPECT_EQ(a.Apply(DeleteCommand("a"), LogIndex(6)).status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      a.Apply(PutCommand("c", "3", "", Precondition::kMustNotExist), LogIndex(7)).status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(RevisionOf("a"), std::nullopt);
  EXPECT_EQ(RevisionOf("b"), std::nullopt);
  EXPECT_EQ(RevisionOf("c"), 7u);
  EXPECT_TRUE(engine_->Get(SecretKey("loc"))->has_value());
  auto member = engine_->Get(SystemKey(MemberKeyName(1)));
  ASSERT_TRUE(member.ok() && member->has_value());
  EXPECT_EQ(**member, "me");
  EXPECT_EQ(MemberKeyName(42), "member/00000000000000000042");
}

TEST_F(ApplierTest, ScannerHonoursPrefixAfterAndLimitOnOneView) {
  for (const char* k : {"a", "p/1", "p/2", "p/3", "q"}) ApplyOne(PutCommand(k, k));
  ApplyOne(PutSecretCommand("zz", "hidden"));
  Scanner s(engine_->NewView(), ScanOptions{"p/", std::string("p/1"), 1});
  ApplyOne(PutCommand("p/15", "late"));  // after the view: invisible
  ASSERT_TRUE(*s.Next());
  EXPECT_EQ(s.key(), "p/2");
  EXPECT_FALSE(*s.Next());
  EXPECT_TRUE(s.more());

  Scanner all(engine_->NewView(), ScanOptions{});
  std::vector<std::string> keys;
  while (*all.Next()) keys.emplace_back(all.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "p/1", "p/15", "p/2", "p/3", "q"}));
  EXPECT_FALSE(all.more());
}

MemberRecord Member(std::string name, std::string peer, std::string api = "h:1") {
  return MemberRecord{0, std::move(name), std::move(peer), std::move(api)};
}

std::vector<std::string> MemberNames(const engine::Engine& engine) {
  std::vector<std::string> names;
  auto members = ReadMembers(engine);
  EXPECT_TRUE(members.ok()) << members.status().ToString();
  if (members.ok()) {
    for (const MemberRecord& m : *members) names.push_back(m.name);
  }
  return names;
}

TEST_F(ApplierTest, AddMemberTakesTheLogIndexAsIdAndRefusesDuplicates) {
  ApplyOne(PutCommand("k", "v"));
  ApplyResult r = ApplyOne(AddMemberCommand(Member("n1", "a:1")));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.revision, 2u);
  ApplyResult same_name = ApplyOne(AddMemberCommand(Member("n1", "b:1")));
  EXPECT_EQ(same_name.status.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(same_name.status.message().find("member 2"), std::string::npos);
  ApplyResult same_peer = ApplyOne(AddMemberCommand(Member("n2", "a:1")));
  EXPECT_EQ(same_peer.status.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(same_peer.status.message().find("member 2"), std::string::npos);
  // The API address may be shared: only name and peer address identify a member.
  EXPECT_TRUE(ApplyOne(AddMemberCommand(Member("n3", "c:1"))).status.ok());

  auto members = ReadMembers(*engine_);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0], (MemberRecord{2, "n1", "a:1", "h:1"}));
  EXPECT_EQ((*members)[1], (MemberRecord{5, "n3", "c:1", "h:1"}));
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(5));
}

TEST_F(ApplierTest, RemoveMemberRefusesUnknownIdsAndTheLastMember) {
  ApplyOne(AddMemberCommand(Member("n1", "a:1")));
  EXPECT_EQ(ApplyOne(RemoveMemberCommand(1)).status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyOne(RemoveMemberCommand(9)).status.code(), StatusCode::kNotFound);
  ApplyOne(AddMemberCommand(Member("n2", "b:1")));  // id 4
  EXPECT_TRUE(ApplyOne(RemoveMemberCommand(1)).status.ok());
  EXPECT_EQ(MemberNames(*engine_), std::vector<std::string>{"n2"});
  EXPECT_EQ(ApplyOne(RemoveMemberCommand(1)).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(ApplyOne(RemoveMemberCommand(4)).status.code(), StatusCode::kFailedPrecondition);
  // A removed member's name and peer address may join again, under a new id.
  ApplyResult again = ApplyOne(AddMemberCommand(Member("n1", "a:1")));
  EXPECT_TRUE(again.status.ok());
  EXPECT_EQ(again.revision, 8u);
}

// The leader records a member's new addresses by replacing its record (must_exist): after a
// removal, the same update changes nothing rather than bring the member back.
TEST_F(ApplierTest, ARecordReplacedWithMustExistIsNeverRecreated) {
  ApplyOne(AddMemberCommand(Member("n1", "a:1")));  // id 1
  ApplyOne(AddMemberCommand(Member("n2", "b:1")));  // id 2
  MemberRecord moved{2, "n2", "b:2", "h:2"};
  auto update = [&] {
    return ApplyOne(
        PutSystemCommand(MemberKeyName(2), EncodeMemberRecord(moved), Precondition::kMustExist));
  };
  ASSERT_TRUE(update().status.ok());
  auto members = ReadMembers(*engine_);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1], moved);
  ASSERT_TRUE(ApplyOne(RemoveMemberCommand(2)).status.ok());
  EXPECT_EQ(update().status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(MemberNames(*engine_), std::vector<std::string>{"n1"});
}

TEST_F(ApplierTest, MemberCommandsInOneBatchSeeEarlierOnes) {
  ApplyOne(AddMemberCommand(Member("n1", "a:1")));  // id 1, committed before the batch
  BatchApplier a(engine_.get());
  EXPECT_TRUE(a.Apply(AddMemberCommand(Member("n2", "b:1")), LogIndex(2)).status.ok());
  EXPECT_EQ(a.Apply(AddMemberCommand(Member("n2", "x:1")), LogIndex(3)).status.code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(a.Apply(RemoveMemberCommand(1), LogIndex(4)).status.ok());
  EXPECT_EQ(a.Apply(RemoveMemberCommand(1), LogIndex(5)).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(a.Apply(RemoveMemberCommand(2), LogIndex(6)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(a.Apply(AddMemberCommand(Member("n1", "a:1")), LogIndex(7)).status.ok());
  EXPECT_TRUE(a.Apply(RemoveMemberCommand(2), LogIndex(8)).status.ok());
  EXPECT_EQ(MemberNames(*engine_), std::vector<std::string>{"n1"});  // nothing written yet
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  auto members = ReadMembers(*engine_);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0], (MemberRecord{7, "n1", "a:1", "h:1"}));
}

TEST_F(ApplierTest, SystemWritesOfMemberKeysAreSeenByLaterMemberCommands) {
  // How a bootstrap writes its own record: a kPutSystem in the same batch as later joins.
  BatchApplier a(engine_.get());
  const MemberRecord first{1, "n1", "a:1", "h:1"};
  EXPECT_TRUE(a.Apply(PutSystemCommand(MemberKeyName(1), EncodeMemberRecord(first)), LogIndex(1))
                  .status.ok());
  EXPECT_EQ(a.Apply(AddMemberCommand(Member("n1", "z:1")), LogIndex(2)).status.code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(a.Apply(AddMemberCommand(Member("n3", "c:1")), LogIndex(3)).status.ok());
  EXPECT_TRUE(a.Apply(DeleteSystemCommand(MemberKeyName(3)), LogIndex(4)).status.ok());
  EXPECT_EQ(a.Apply(RemoveMemberCommand(1), LogIndex(5)).status.code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(MemberNames(*engine_), std::vector<std::string>{"n1"});
}

TEST_F(ApplierTest, ADamagedMemberRecordFailsMemberCommandsNotOtherWrites) {
  ApplyOne(AddMemberCommand(Member("n1", "a:1")));
  ApplyOne(PutSystemCommand(MemberKeyName(9), "not a record"));
  EXPECT_EQ(ReadMembers(*engine_).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ApplyOne(AddMemberCommand(Member("n2", "b:1"))).status.code(), StatusCode::kCorruption);
  EXPECT_EQ(ApplyOne(RemoveMemberCommand(1)).status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(ApplyOne(PutCommand("k", "v")).status.ok());
  // In one batch, too: a bad record written earlier in the batch is seen as the engine would.
  BatchApplier a(engine_.get());
  EXPECT_TRUE(a.Apply(DeleteSystemCommand(MemberKeyName(9)), LogIndex(6)).status.ok());
  EXPECT_TRUE(a.Apply(AddMemberCommand(Member("n2", "b:1")), LogIndex(7)).status.ok());
  EXPECT_TRUE(a.Apply(PutSystemCommand(MemberKeyName(8), "junk"), LogIndex(8)).status.ok());
  EXPECT_EQ(a.Apply(RemoveMemberCommand(1), LogIndex(9)).status.code(), StatusCode::kCorruption);
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
}

TEST_F(ApplierTest, ReadMembersListsInIdOrderAndIgnoresOtherSystemKeys) {
  ApplyOne(PutSystemCommand(std::string(kJoinTokenHashKey), std::string(32, 'h')));
  for (uint64_t id : {10u, 2u, 300u}) {
    ApplyOne(PutSystemCommand(
        MemberKeyName(id),
        EncodeMemberRecord({id, "n" + std::to_string(id), "p" + std::to_string(id), "a"})));
  }
  ApplyOne(PutCommand("member/00000000000000000001", "a user key, not a member"));
  auto members = ReadMembers(*engine_);
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  std::vector<uint64_t> ids;
  for (const MemberRecord& m : *members) ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{2, 10, 300}));
  EXPECT_TRUE(ReadMembers(*engine::NewMemoryEngine())->empty());
}

}  // namespace
}  // namespace nds::store

namespace nds::store {
namespace {

// Two token creates of one name that both passed the API's read check: the first in the log
// takes effect, the second fails and changes nothing, in one batch or across batches.
TEST(ApplierSystemKeys, MustNotExistLetsOnlyTheFirstCreateOfANameApply) {
  std::unique_ptr<engine::Engine> engine = engine::NewMemoryEngine();
  const std::string key = TokenKeyName("ci");
  {
    BatchApplier a(engine.get());
    EXPECT_TRUE(a.Apply(PutSystemCommand(key, "first", Precondition::kMustNotExist), LogIndex(1))
                    .status.ok());
    EXPECT_EQ(a.Apply(PutSystemCommand(key, "second", Precondition::kMustNotExist), LogIndex(2))
                  .status.code(),
              StatusCode::kAlreadyExists);
    ASSERT_TRUE(a.Commit(engine.get(), true).ok());
  }
  EXPECT_EQ(engine->Get(SystemKey(key)).value(), std::optional<std::string>("first"));
  {
    BatchApplier a(engine.get());
    EXPECT_EQ(a.Apply(PutSystemCommand(key, "third", Precondition::kMustNotExist), LogIndex(3))
                  .status.code(),
              StatusCode::kAlreadyExists);
    // A revocation in between makes the name free again, within the same batch.
    EXPECT_TRUE(a.Apply(DeleteSystemCommand(key), LogIndex(4)).status.ok());
    EXPECT_TRUE(a.Apply(PutSystemCommand(key, "fourth", Precondition::kMustNotExist), LogIndex(5))
                    .status.ok());
    ASSERT_TRUE(a.Commit(engine.get(), true).ok());
  }
  EXPECT_EQ(engine->Get(SystemKey(key)).value(), std::optional<std::string>("fourth"));
  // Round trip through the wire: the precondition travels with the command.
  const Command c = PutSystemCommand(key, "x", Precondition::kMustNotExist);
  std::string bytes;
  EncodeCommand(c, &bytes);
  auto decoded = DecodeCommand(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, c);
}

}  // namespace
}  // namespace nds::store
