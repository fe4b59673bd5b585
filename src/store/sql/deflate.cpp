#include "store/sql/deflate.h"

#include <zlib.h>

namespace mailmoat::store::sql {

std::string deflate_bytes(std::string_view input) {
  uLongf bound = compressBound(static_cast<uLong>(input.size()));
  std::string out(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &bound, reinterpret_cast<const Bytef*>(input.data()),
                static_cast<uLong>(input.size()), 6) != Z_OK)
    return {};
  out.resize(bound);
  return out;
}

util::Result<std::string> inflate_bytes(std::string_view input, std::size_t max_output) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return util::fail("zlib: cannot initialise");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_output) rc = Z_MEM_ERROR;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // truncated input
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return util::fail("stored message is corrupt (zlib)");
  return out;
}

}  // namespace mailmoat::store::sql
