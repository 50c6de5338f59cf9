#include "pitlane/sim/trajectory.h"

#include <zlib.h>

#include <cstdio>
#include <sstream>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::sim {
namespace {

constexpr size_t kColumns = 11;

std::string gzip(const std::string& text) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper; zlib writes a header with no name and a zero timestamp.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw RunError("gzip: deflateInit2 failed");
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw RunError("gzip: deflate failed");
  return out;
}

std::string gunzip(const std::string& bytes, const std::filesystem::path& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw RunError("gzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buffer[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (out.size() > (size_t{1} << 30)) rc = Z_MEM_ERROR;  // bounded: 1 GiB of text
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    throw InputError(path.string() + ": not a complete gzip file; write it with pitlane");
  return out;
}

}  // namespace

const std::string& trajectory_csv_header() {
  static const std::string kHeader =
      "t_s,x_m,y_m,heading_rad,s_m,lateral_m,v_cmd_mps,w_cmd_radps,v_mps,w_radps,latency_ms";
  return kHeader;
}

std::string trajectory_csv(std::span<const TrajectorySample> samples) {
  std::string text = trajectory_csv_header() + "\n";
  text.reserve(text.size() + samples.size() * 96);
  char row[256];
  for (const TrajectorySample& p : samples) {
    std::snprintf(row, sizeof row, "%.3f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f\n",
                  p.t_s, p.x_m, p.y_m, p.heading_rad, p.s_m, p.lateral_m, p.v_cmd_mps,
                  p.w_cmd_radps, p.v_mps, p.w_radps, p.latency_ms);
    text += row;
  }
  return text;
}

void write_trajectory(const std::filesystem::path& path,
                      std::span<const TrajectorySample> samples) {
  write_file_atomic(path, gzip(trajectory_csv(samples)));
}

std::vector<TrajectorySample> read_trajectory(const std::filesystem::path& path) {
  std::istringstream in(gunzip(read_file(path), path));
  std::string line;
  if (!std::getline(in, line) || line != trajectory_csv_header())
    throw InputError(path.string() + ":1: not a pitlane trajectory (expected the header '" +
                     trajectory_csv_header() + "')");
  std::vector<TrajectorySample> out;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    TrajectorySample p;
    double* fields[kColumns] = {&p.t_s,   &p.x_m,       &p.y_m,       &p.heading_rad,
                                &p.s_m,   &p.lateral_m, &p.v_cmd_mps, &p.w_cmd_radps,
                                &p.v_mps, &p.w_radps,   &p.latency_ms};
    std::istringstream row(line);
    std::string cell;
    size_t n = 0;
    for (; n < kColumns && std::getline(row, cell, ','); ++n) {
      try {
        size_t used = 0;
        *fields[n] = std::stod(cell, &used);
        if (used != cell.size()) throw std::invalid_argument(cell);
      } catch (const std::exception&) {
        throw InputError(path.string() + ":" + std::to_string(line_no) + ": '" + cell +
                         "' is not a number");
      }
    }
    if (n != kColumns || std::getline(row, cell, ','))
      throw InputError(path.string() + ":" + std::to_string(line_no) + ": expected " +
                       std::to_string(kColumns) + " values");
    out.push_back(p);
  }
  return out;
}

}  // namespace pitlane::sim
