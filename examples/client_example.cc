// A small program that uses nds::Client (docs/client.md): stores and reads a blob, increments a
// counter with a compare-and-swap loop, and keeps a secret. Run it against a node:
//   nds start --data /tmp/nds1 &        # or any cluster
//   client_example localhost:7777
#include <charconv>
#include <cstdio>
#include <string>

#include "client/client.h"

namespace {

using nds::Result;
using nds::Status;
using nds::StatusCode;

// Adds one to the decimal counter at `key`, creating it at 1, and returns the new count. Retries
// a lost race (kFailedPrecondition) a bounded number of times: every loop has a limit.
Result<uint64_t> Increment(nds::Client& client, const std::string& key) {
  constexpr int kAttemptsMax = 20;
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    nds::client::PutOptions cas;
    uint64_t count = 0;
    Result<nds::client::Blob> current = client.Get(key);
    if (current.ok()) {
      const std::string& text = current->value;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return nds::InvalidArgument("the counter does not hold a number");
      }
      cas.if_match_revision = current->revision;  // write only over what we read
    } else if (current.status().code() == StatusCode::kNotFound) {
      cas.if_none_match_star = true;  // create only: another writer may create it first
    } else {
      return current.status();
    }
    Result<nds::client::PutResult> put = client.Put(key, std::to_string(count + 1), cas);
    if (put.ok()) return count + 1;
    if (put.status().code() != StatusCode::kFailedPrecondition) return put.status();
    // Someone else wrote in between: read again and retry.
  }
  return nds::Unavailable("too much contention on the counter");
}

Status Run(const char* servers) {
  nds::client::ClientOptions options;
  NDS_ASSIGN_OR_RETURN(options.servers, nds::client::ParseServerList(servers));
  NDS_ASSIGN_OR_RETURN(auto client, nds::Client::Create(options));

  // A blob: any bytes, under a key that may contain '/'.
  nds::client::PutOptions put_options;
  put_options.content_type = "text/plain";
  NDS_ASSIGN_OR_RETURN(auto put, client->Put("examples/hello.txt", "hello, nds\n", put_options));
  std::printf("put examples/hello.txt: revision %llu (%s)\n",
              static_cast<unsigned long long>(put.revision), put.created ? "created" : "replaced");
  NDS_ASSIGN_OR_RETURN(auto blob, client->Get("examples/hello.txt"));
  std::printf("get examples/hello.txt: %zu bytes of %s at revision %llu\n", blob.value.size(),
              blob.content_type.c_str(), static_cast<unsigned long long>(blob.revision));

  // A compare-and-swap loop.
  NDS_ASSIGN_OR_RETURN(const uint64_t count, Increment(*client, "examples/counter"));
  std::printf("examples/counter is now %llu\n", static_cast<unsigned long long>(count));

  // A secret: only the returned key can read it back; the cluster never keeps the key.
  NDS_ASSIGN_OR_RETURN(const std::string key,
                       client->StoreSecret("examples/db-password", "s3cr3t"));
  NDS_ASSIGN_OR_RETURN(const std::string plaintext,
                       client->RetrieveSecret("examples/db-password", key));
  std::printf("secret round trip: %s\n", plaintext == "s3cr3t" ? "ok" : "MISMATCH");
  return Status::Ok();
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
int main(int argc, char** argv) {
  const Status status = Run(argc > 1 ? argv[1] : "localhost:7777");
  if (!status.ok()) {
    std::fprintf(stderr, "client_example: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
