// Reply parsers (see reply_parsing.h). nlohmann::json is used without exceptions: parse with
// allow_exceptions=false and check every type before reading it.
#include "client/reply_parsing.h"

#include <charconv>
#include <initializer_list>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/encoding.h"

namespace nds::client {
namespace {

using Json = nlohmann::json;

// The first of `names` present in `obj`, or nullptr.
const Json* Field(const Json& obj, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto it = obj.find(name);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::optional<uint64_t> U64Field(const Json& obj, std::initializer_list<const char*> names) {
  const Json* v = Field(obj, names);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<uint64_t>();
  if (v->is_string()) return ParseDecimal(v->get_ref<const std::string&>());
  return std::nullopt;
}

std::string StringField(const Json& obj, std::initializer_list<const char*> names) {
  const Json* v = Field(obj, names);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::optional<bool> BoolField(const Json& obj, std::initializer_list<const char*> names) {
  const Json* v = Field(obj, names);
  return v != nullptr && v->is_boolean() ? std::optional<bool>(v->get<bool>()) : std::nullopt;
}

// Base64 from the server: a bad encoding is the reply's fault (kIoError), not the caller's.
Result<std::string> DecodeReplyBase64(const Json& text, std::string_view what) {
  Result<std::string> bytes = Base64Decode(text.get_ref<const std::string&>());
  if (!bytes.ok()) {
    return IoError(fmt::format("/keys reply holds a {} that is not base64 ({})", what,
                               bytes.status().message()));
  }
  return bytes;
}

Result<Json> ParseJson(std::string_view body, std::string_view what) {
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return IoError(fmt::format("{} reply of {} bytes is not JSON", what, body.size()));
  }
  return doc;
}

MemberInfo ParseMember(const Json& m) {
  MemberInfo info;
  info.id = NodeId(U64Field(m, {"id"}).value_or(0));
  info.name = StringField(m, {"name"});
  info.peer_address = StringField(m, {"peer_address", "peer"});
  info.api_address = StringField(m, {"api_address", "api"});
  if (const auto voter = BoolField(m, {"voter"})) {
    info.voter = *voter;
  } else if (const auto learner = BoolField(m, {"learner"})) {
    info.voter = !*learner;
  } else {
    info.voter = StringField(m, {"suffrage", "role", "kind"}) != "learner";
  }
  info.reachable = BoolField(m, {"reachable"});
  info.behind_entries = U64Field(m, {"behind", "behind_entries", "lag"});
  return info;
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t v = 0;
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseRevision(std::string_view text) {
  if (text.starts_with("W/")) text.remove_prefix(2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return ParseDecimal(text);
}

Result<ListPage> ParseKeysPage(std::string_view body) {
  NDS_ASSIGN_OR_RETURN(const Json doc, ParseJson(body, "/keys"));
  const auto keys = doc.is_object() ? doc.find("keys") : doc.end();
  if (!doc.is_object() || keys == doc.end() || !keys->is_array()) {
    return IoError("/keys reply has no \"keys\" array");
  }
  ListPage page;
  page.keys.reserve(keys->size());
  for (const Json& k : *keys) {
    if (!k.is_string()) return IoError("/keys reply holds a key that is not a string");
    NDS_ASSIGN_OR_RETURN(std::string key, DecodeReplyBase64(k, "key"));
    page.keys.push_back(std::move(key));
  }
  if (const Json* next = Field(doc, {"next"})) {
    if (!next->is_string()) return IoError("/keys reply has a \"next\" that is not a string");
    NDS_ASSIGN_OR_RETURN(std::string after, DecodeReplyBase64(*next, "next"));
    page.next = std::move(after);
  }
  return page;
}

Result<NodeStatus> ParseNodeStatus(std::string_view body) {
  NDS_ASSIGN_OR_RETURN(const Json doc, ParseJson(body, "/status"));
  if (!doc.is_object()) return IoError("/status reply is not a JSON object");
  NodeStatus s;
  s.id = NodeId(U64Field(doc, {"id"}).value_or(0));
  s.name = StringField(doc, {"name"});
  s.cluster_id = StringField(doc, {"cluster_id"});
  s.engine = StringField(doc, {"engine"});
  s.role = StringField(doc, {"role"});
  s.term = Term(U64Field(doc, {"term"}).value_or(0));
  s.leader_id = NodeId(U64Field(doc, {"leader_id"}).value_or(0));
  s.commit_index = LogIndex(U64Field(doc, {"commit_index"}).value_or(0));
  s.applied_index = LogIndex(U64Field(doc, {"applied_index"}).value_or(0));
  s.version = StringField(doc, {"version"});
  return s;
}

Result<std::vector<MemberInfo>> ParseMembers(std::string_view body) {
  NDS_ASSIGN_OR_RETURN(const Json doc, ParseJson(body, "/cluster/members"));
  const Json* list = &doc;
  if (doc.is_object()) list = Field(doc, {"members"});
  if (list == nullptr || !list->is_array()) {
    return IoError("/cluster/members reply is not a JSON list");
  }
  std::vector<MemberInfo> members;
  for (const Json& m : *list) {
    if (!m.is_object())
      return IoError("/cluster/members reply holds a member that is not an object");
    members.push_back(ParseMember(m));
  }
  return members;
}

Result<JoinReply> ParseJoinReply(std::string_view body) {
  NDS_ASSIGN_OR_RETURN(const Json doc, ParseJson(body, "/cluster/members"));
  if (!doc.is_object()) return IoError("/cluster/members join reply is not a JSON object");
  JoinReply reply;
  reply.id = U64Field(doc, {"id"}).value_or(0);
  if (reply.id == 0) return IoError("/cluster/members join reply has no member id");
  reply.cluster_id = StringField(doc, {"cluster_id"});
  reply.cluster_secret = StringField(doc, {"cluster_secret"});
  if (Field(doc, {"members"}) != nullptr) {
    NDS_ASSIGN_OR_RETURN(reply.members, ParseMembers(body));
  }
  return reply;
}

Result<std::string> ParseSecretKey(std::string_view body) {
  NDS_ASSIGN_OR_RETURN(const Json doc, ParseJson(body, "/secrets"));
  const std::string key = doc.is_object() ? StringField(doc, {"key"}) : std::string();
  if (key.empty()) return IoError("/secrets reply has no \"key\"");
  return key;
}

}  // namespace nds::client
