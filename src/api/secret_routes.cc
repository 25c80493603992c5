// /secrets/{id}: encrypted storage under keys the cluster never keeps (API.md "Secrets",
// docs/secrets.md). Neither the id, its key nor the plaintext reaches the node, the log or the
// metrics: only the derived location and the sealed blob are submitted.
#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"
#include "crypto/secret_box.h"
#include "crypto/secure.h"
#include "store/keyspace.h"

namespace nds::api {

void ApiService::HandleSecret(const CallPtr& call, std::string_view encoded_id) {
  const std::string& m = call->request.method;
  if (m != "POST" && m != "GET") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows POST, GET");
    r.SetHeader("Allow", "POST, GET");
    return Finish(call, std::move(r));
  }
  call->route = m == "POST" ? Route::kSecretStore : Route::kSecretRetrieve;
  auto id = PercentDecode(encoded_id, /*plus_is_space=*/false);
  if (!id.ok()) return Finish(call, ErrorResponse(id.status()));
  if (Status s = ValidateKey(*id, "the secret id"); !s.ok()) return Finish(call, ErrorResponse(s));

  if (m == "POST") {
    if (call->request.body.size() > options_.limits.value_bytes_max) {
      return Finish(call,
                    ErrorResponse(413, "too_large", "the secret is larger than --max-value-bytes"));
    }
    // Sealed inline on the io thread: AES-256-GCM plus the two HKDFs cost about 0.35 ms per MiB
    // here (bench/crypto_bench), at most ~6 ms at the 16 MiB limit; see docs/secrets.md.
    auto sealed = crypto::SealSecret(*id, call->request.body);
    if (!sealed.ok()) return Finish(call, ErrorResponse(sealed.status()));
    std::string body = "{\"id\":";
    AppendJsonString(&body, *id, StringEncoding::kLossyUtf8);
    body += ",\"key\":";
    AppendJsonString(&body, sealed->key_b64url, StringEncoding::kLossyUtf8);
    body += "}\n";
    // The key now lives only in the answer (net/ frees it once written); wipe our copy.
    crypto::SecureWipe(sealed->key_b64url);
    return SubmitThen(call, store::PutSecretCommand(sealed->location, std::move(sealed->blob)),
                      [body = std::move(body)](const store::ApplyResult&) {
                        net::HttpResponse r;
                        r.status = 201;
                        r.SetHeader("Content-Type", "application/json");
                        r.SetHeader("Cache-Control", "no-store");
                        r.body = body;
                        return r;
                      });
  }

  if (!call->request.HasHeader("x-secret-key")) {
    return Finish(call,
                  ErrorResponse(400, "invalid_argument", "the X-Secret-Key header is missing"));
  }
  std::string key(call->request.Header("x-secret-key"));
  auto location = crypto::DeriveSecretLocation(*id, key);
  if (!location.ok()) return Finish(call, ErrorResponse(location.status()));
  AfterReadPoint(call, [this, call, id = std::move(id).value(), key = std::move(key),
                        location = std::move(location).value()] {
    auto blob = node_->engine().Get(store::SecretKey(location));
    if (!blob.ok()) return Finish(call, ErrorResponse(blob.status()));
    // A wrong key and an unknown id are the same answer.
    constexpr std::string_view kUnknown = "no secret with that id and key";
    if (!blob->has_value()) return Finish(call, ErrorResponse(404, "not_found", kUnknown));
    auto plain = crypto::OpenSecret(id, key, **blob);
    if (!plain.ok()) {
      if (plain.status().code() == StatusCode::kNotFound) {
        return Finish(call, ErrorResponse(404, "not_found", kUnknown));
      }
      return Finish(call, ErrorResponse(plain.status()));
    }
    net::HttpResponse r;
    r.SetHeader("Content-Type", "application/octet-stream");
    r.SetHeader("Cache-Control", "no-store");
    r.body = std::move(plain).value();
    Finish(call, std::move(r));
  });
}

}  // namespace nds::api
