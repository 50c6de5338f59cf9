#include "pitlane/core/gzip.h"

#include <zlib.h>

#include <vector>

#include "pitlane/core/error.h"

namespace pitlane {

int64_t gzip_size(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw RunError("gzip: deflateInit2 failed");
  }
  std::vector<unsigned char> buffer(1 << 16);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  int64_t total = 0;
  int rc;
  do {
    zs.next_out = buffer.data();
    zs.avail_out = static_cast<uInt>(buffer.size());
    rc = deflate(&zs, Z_FINISH);
    total += static_cast<int64_t>(buffer.size() - zs.avail_out);
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw RunError("gzip: deflate failed");
  return total;
}

}  // namespace pitlane
