// Goal: the snapshot image codec round-trips every kind of record a store holds, leaves out what
// belongs to the cluster (members, join token), and refuses every truncation and every flipped
// byte with the byte offset of the problem.
// Method: a memory engine filled through its WriteBatch, written with ImageWriter in small pulls,
// read back with ImageReader from a string; then damaged copies of the same bytes.
#include "store/image_format.h"

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/auth_state.h"
#include "store/keyspace.h"

namespace nds::store {
namespace {

std::unique_ptr<engine::Engine> FilledEngine() {
  auto e = engine::NewMemoryEngine();
  engine::WriteBatch b;
  b.Put(DataKey("a"), EncodeRecord(5, "text/plain", "alpha"));
  b.Put(DataKey(std::string("bin\0key", 7)), EncodeRecord(7, "", std::string("\0\xff", 2)));
  b.Put(SecretKey(std::string(32, 'L')), "sealed-blob");
  b.Put(SystemKey(kAuthModeKey), "on");
  b.Put(SystemKey(TokenKeyName("root")), "token-record");
  b.Put(SystemKey(MemberKeyName(1)), "member-record");
  b.Put(SystemKey(kJoinTokenHashKey), "hash");
  EXPECT_TRUE(e->Write(b, LogIndex{9}, false).ok());
  return e;
}

std::string ImageOf(const engine::Engine& e, size_t chunk = 7) {
  ImageWriter w(e.NewView(), "cluster-x", 1234);
  std::string out;
  for (int i = 0; i < 10000; ++i) {
    auto more = w.Pull(&out, chunk);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
  }
  return out;
}

ImageSource StringSource(const std::string* bytes) {
  auto pos = std::make_shared<size_t>(0);
  return [bytes, pos](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, bytes->size() - *pos);
    std::copy_n(bytes->data() + *pos, k, buf);
    *pos += k;
    return k;
  };
}

// Reads the whole image; the first error, or ok.
Status ReadAll(const std::string& bytes, std::vector<ImageRecord>* records = nullptr) {
  ImageReader r(StringSource(&bytes));
  NDS_RETURN_IF_ERROR(r.ReadHeader());
  for (int i = 0; i < 100; ++i) {
    ImageRecord rec;
    NDS_ASSIGN_OR_RETURN(bool more, r.Next(&rec));
    if (!more) return Status::Ok();
    if (records) records->push_back(rec);
  }
  return Corruption("too many records");
}

TEST(ImageFormat, RoundTripsDataSecretsAndAuthButNotMembership) {
  auto e = FilledEngine();
  std::string bytes = ImageOf(*e);
  ImageReader r(StringSource(&bytes));
  ASSERT_TRUE(r.ReadHeader().ok());
  EXPECT_EQ(r.header().revision, 9u);
  EXPECT_EQ(r.header().cluster_id, "cluster-x");
  EXPECT_EQ(r.header().created_unix_ms, 1234u);
  std::vector<ImageRecord> recs;
  for (int i = 0; i < 100; ++i) {
    ImageRecord rec;
    auto more = r.Next(&rec);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    recs.push_back(rec);
  }
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].kind, ImageRecordKind::kData);
  EXPECT_EQ(recs[0].key, "a");
  EXPECT_EQ(recs[0].value, "alpha");
  EXPECT_EQ(recs[0].revision, 5u);
  EXPECT_EQ(recs[0].content_type, "text/plain");
  EXPECT_EQ(recs[1].key, std::string("bin\0key", 7));
  EXPECT_EQ(recs[1].value, std::string("\0\xff", 2));
  EXPECT_EQ(recs[2].kind, ImageRecordKind::kSecret);
  EXPECT_EQ(recs[2].value, "sealed-blob");
  EXPECT_EQ(recs[3].kind, ImageRecordKind::kAuth);
  EXPECT_EQ(recs[3].key, TokenKeyName("root"));  // "auth/" sorts before "auth_"
  EXPECT_EQ(recs[4].key, kAuthModeKey);
  EXPECT_EQ(r.totals().records, 5u);
  EXPECT_EQ(r.totals().data_records, 2u);
  EXPECT_EQ(r.totals().bytes, bytes.size());
}

TEST(ImageFormat, AnEmptyStoreIsAHeaderAndATrailer) {
  auto e = engine::NewMemoryEngine();
  std::string bytes = ImageOf(*e);
  std::vector<ImageRecord> recs;
  EXPECT_TRUE(ReadAll(bytes, &recs).ok());
  EXPECT_TRUE(recs.empty());
}

TEST(ImageFormat, EveryTruncationIsRefusedWithItsOffset) {
  std::string bytes = ImageOf(*FilledEngine());
  for (size_t len = 0; len < bytes.size(); ++len) {
    Status s = ReadAll(bytes.substr(0, len));
    ASSERT_FALSE(s.ok()) << "cut at " << len;
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find("byte offset"), std::string::npos) << s.ToString();
  }
}

TEST(ImageFormat, EveryFlippedByteIsRefused) {
  std::string bytes = ImageOf(*FilledEngine());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Status s = ReadAll(bad);
    ASSERT_FALSE(s.ok()) << "flip at " << i;
  }
}

TEST(ImageFormat, ADamagedRecordNamesItsOwnOffset) {
  std::string bytes = ImageOf(*FilledEngine());
  ImageReader r(StringSource(&bytes));
  ASSERT_TRUE(r.ReadHeader().ok());
  const uint64_t first = r.offset();
  std::string bad = bytes;
  bad[first + kImageRecordHeadBytes + 2] ^= 0x40;  // inside the first record's body
  Status s = ReadAll(bad);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("offset " + std::to_string(first)), std::string::npos) << s.ToString();
}

TEST(ImageFormat, BytesAfterTheTrailerAndNewerVersionsAreRefused) {
  std::string bytes = ImageOf(*FilledEngine());
  EXPECT_EQ(ReadAll(bytes + "x").code(), StatusCode::kCorruption);
  ImageHeader h;
  h.version = kImageFormatVersion + 1;
  EXPECT_EQ(ReadAll(EncodeImageHeader(h)).code(), StatusCode::kFailedPrecondition);
}

TEST(ImageFormat, ARecordLengthBeyondTheLimitIsRefusedBeforeReadingIt) {
  std::string bytes = EncodeImageHeader(ImageHeader{});
  std::string head(kImageRecordHeadBytes, '\xff');
  head[8] = static_cast<char>(ImageRecordKind::kData);
  Status s = ReadAll(bytes + head);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("beyond the limit"), std::string::npos) << s.ToString();
}

TEST(ImageFormat, EncodedRecordsReadBack) {
  ImageRecord rec{ImageRecordKind::kData, "k", "v", 3, "ct"};
  std::string bytes = EncodeImageHeader(ImageHeader{}) + EncodeImageRecord(rec);
  // No trailer: a truncated image.
  Status s = ReadAll(bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace nds::store
