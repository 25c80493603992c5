// Throughput of the secrets scheme (crypto/secret_box.h) and of its AES-256-GCM core, for a small
// secret (100 B) and a large one (1 MiB). Seal includes drawing a key and a nonce and two HKDF
// derivations plus one HMAC; open includes decoding the key and one HKDF. Run with repetitions for
// medians (scripts/run-benchmarks), e.g.
//   build/.../bench/crypto_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "crypto/aes_gcm.h"
#include "crypto/secret_box.h"
#include "util/check.h"

namespace nds::crypto {
namespace {

std::string Plaintext(size_t size_bytes) {
  std::string s(size_bytes, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

void BM_SealSecret(benchmark::State& state) {
  const std::string plaintext = Plaintext(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto sealed = SealSecret("bench/secret-id", plaintext);
    NDS_CHECK(sealed.ok(), "{}", sealed.status().ToString());
    benchmark::DoNotOptimize(sealed->blob.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_OpenSecret(benchmark::State& state) {
  const std::string plaintext = Plaintext(static_cast<size_t>(state.range(0)));
  auto sealed = SealSecret("bench/secret-id", plaintext);
  NDS_CHECK(sealed.ok(), "{}", sealed.status().ToString());
  for (auto _ : state) {
    auto opened = OpenSecret("bench/secret-id", sealed->key_b64url, sealed->blob);
    NDS_CHECK(opened.ok(), "{}", opened.status().ToString());
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_DeriveSecretLocation(benchmark::State& state) {
  auto sealed = SealSecret("bench/secret-id", "x");
  NDS_CHECK(sealed.ok(), "{}", sealed.status().ToString());
  for (auto _ : state) {
    auto location = DeriveSecretLocation("bench/secret-id", sealed->key_b64url);
    NDS_CHECK(location.ok(), "{}", location.status().ToString());
    benchmark::DoNotOptimize(location->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The cipher alone, to show how much of the scheme's cost is key handling.
void BM_AesGcmSeal(benchmark::State& state) {
  const std::string plaintext = Plaintext(static_cast<size_t>(state.range(0)));
  const std::vector<uint8_t> key(kAesGcmKeyBytes, 0x42);
  for (auto _ : state) {
    auto sealed = AesGcmSeal(key, plaintext, "nds-secret-v1bench/secret-id");
    NDS_CHECK(sealed.ok(), "{}", sealed.status().ToString());
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_SealSecret)->Arg(100)->Arg(1 << 20);
BENCHMARK(BM_OpenSecret)->Arg(100)->Arg(1 << 20);
BENCHMARK(BM_DeriveSecretLocation);
BENCHMARK(BM_AesGcmSeal)->Arg(100)->Arg(1 << 20);

}  // namespace
}  // namespace nds::crypto

BENCHMARK_MAIN();
