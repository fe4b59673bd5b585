// libFuzzer target: the worker IPC (frames, requests, responses), both ways:
// the worker decodes requests, the gateway decodes what a possibly
// compromised worker sends back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/sandbox/ipc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ipc = mailmoat::attachments::ipc;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)ipc::unframe(bytes);
  (void)ipc::decode_request(bytes);
  (void)ipc::decode_request(bytes, bytes.substr(0, size / 2));  // content attached in a memfd
  if (auto r = ipc::decode_response(bytes)) (void)ipc::encode_response(*r);
  return 0;
}
