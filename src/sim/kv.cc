// KV command encoding and the register map of simulated nodes (see kv.h).
#include "sim/kv.h"

#include "util/coding.h"

namespace nds::sim {

namespace {

void PutOptional(std::string* dst, const std::optional<std::string>& v) {
  dst->push_back(v ? 1 : 0);
  if (v) PutLengthPrefixed(dst, *v);
}

Result<std::optional<std::string>> GetOptional(Decoder* d) {
  NDS_ASSIGN_OR_RETURN(std::string_view flag, d->Bytes(1));
  if (flag[0] == 0) return std::optional<std::string>();
  if (flag[0] != 1) return Corruption("kv command: bad presence flag");
  NDS_ASSIGN_OR_RETURN(std::string_view bytes, d->LengthPrefixed());
  return std::optional<std::string>(std::string(bytes));
}

}  // namespace

std::string EncodeKvCommand(const KvCommand& cmd) {
  std::string out;
  PutVarint64(&out, cmd.op_id);
  out.push_back(static_cast<char>(cmd.kind));
  PutLengthPrefixed(&out, cmd.key);
  PutOptional(&out, cmd.value);
  PutOptional(&out, cmd.expected);
  return out;
}

Result<KvCommand> DecodeKvCommand(std::string_view data) {
  Decoder d(data);
  KvCommand cmd;
  NDS_ASSIGN_OR_RETURN(cmd.op_id, d.Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view kind, d.Bytes(1));
  if (kind[0] != static_cast<char>(OpKind::kWrite) && kind[0] != static_cast<char>(OpKind::kCas)) {
    return Corruption("kv command: bad kind");
  }
  cmd.kind = static_cast<OpKind>(kind[0]);
  NDS_ASSIGN_OR_RETURN(std::string_view key, d.LengthPrefixed());
  cmd.key = std::string(key);
  NDS_ASSIGN_OR_RETURN(cmd.value, GetOptional(&d));
  NDS_ASSIGN_OR_RETURN(cmd.expected, GetOptional(&d));
  if (!d.done()) return Corruption("kv command: trailing bytes");
  return cmd;
}

bool KvStateMachine::Apply(const KvCommand& cmd) {
  if (cmd.kind == OpKind::kCas && Get(cmd.key) != cmd.expected) return false;
  if (cmd.value) {
    data_[cmd.key] = *cmd.value;
  } else {
    data_.erase(cmd.key);
  }
  return true;
}

std::optional<std::string> KvStateMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

}  // namespace nds::sim
