// Fuzz target: store/command's decoder, which reads every committed log entry's command before it
// is applied. Properties: no crash; an accepted command re-encodes to bytes that decode to it.
#include <string>

#include "fuzz/fuzz_check.h"
#include "store/command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto command = nds::store::DecodeCommand(nds::fuzz::AsView(data, size));
  if (!command.ok()) return 0;
  std::string encoded;
  nds::store::EncodeCommand(*command, &encoded);
  auto again = nds::store::DecodeCommand(encoded);
  FUZZ_CHECK(again.ok() && *again == *command);
  return 0;
}
