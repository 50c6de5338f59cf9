// ONNX Runtime as a test oracle: writes a model and its inputs (.npy of any element type), runs
// tools/interop/ort_run.js (npm onnxruntime-node) and reads every output back as floats.
// Skips (have_ort() == false) when node or tools/interop/node_modules is missing.
//
//   OrtOracle ort("qconv");
//   auto out = ort.run(model_bytes, {{"x", {{1, 3, 8, 8}, x, "<f4"}}});
//   out["y"].data   // floats, whatever the output's type
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pitlane::runtime::testing {

inline bool have_ort() {
  namespace fs = std::filesystem;
  return std::system("node --version > /dev/null 2>&1") == 0 &&
         fs::exists(fs::path(PITLANE_SOURCE_DIR) / "tools/interop/node_modules/onnxruntime-node");
}

struct NpyData {
  std::vector<int64_t> shape;
  std::vector<float> data;    // values converted to float
  std::string descr = "<f4";  // '<f4', '|u1', '|i1', '<i4'
};

inline void write_npy_any(const std::filesystem::path& file, const NpyData& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += std::to_string(a.shape[i]) + ",";
  if (a.shape.size() > 1) shape.pop_back();
  shape += ")";
  std::string header =
      "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  std::ofstream out(file, std::ios::binary);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  for (float v : a.data) {
    if (a.descr == "<f4") {
      out.write(reinterpret_cast<const char*>(&v), 4);
    } else if (a.descr == "<i4") {
      const int32_t x = static_cast<int32_t>(v);
      out.write(reinterpret_cast<const char*>(&x), 4);
    } else {
      const char c = static_cast<char>(static_cast<int32_t>(v));
      out.write(&c, 1);
    }
  }
}

inline NpyData read_npy_any(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw std::runtime_error(file.string() + ": not .npy");
  uint16_t len;
  std::memcpy(&len, bytes.data() + 8, 2);
  const std::string header = bytes.substr(10, len);
  NpyData a;
  const size_t d = header.find("'descr': '") + 10;
  a.descr = header.substr(d, header.find('\'', d) - d);
  const size_t s = header.find('(') + 1;
  std::string dims = header.substr(s, header.find(')') - s);
  for (size_t p = 0; p < dims.size();) {
    const size_t q = dims.find(',', p);
    const std::string tok = dims.substr(p, q == std::string::npos ? std::string::npos : q - p);
    if (tok.find_first_of("0123456789") != std::string::npos) a.shape.push_back(std::stoll(tok));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  int64_t n = 1;
  for (int64_t x : a.shape) n *= x;
  const char* p = bytes.data() + 10 + len;
  for (int64_t i = 0; i < n; ++i) {
    if (a.descr == "<f4") {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      a.data.push_back(v);
    } else if (a.descr == "<i4") {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      a.data.push_back(static_cast<float>(v));
    } else if (a.descr == "|u1") {
      a.data.push_back(static_cast<float>(static_cast<uint8_t>(p[i])));
    } else if (a.descr == "|i1") {
      a.data.push_back(static_cast<float>(static_cast<int8_t>(p[i])));
    } else {
      throw std::runtime_error(file.string() + ": dtype " + a.descr);
    }
  }
  return a;
}

class OrtOracle {
 public:
  explicit OrtOracle(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("pitlane_ort_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~OrtOracle() { std::filesystem::remove_all(dir_); }
  OrtOracle(const OrtOracle&) = delete;
  OrtOracle& operator=(const OrtOracle&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  // Runs the model; throws with ORT's log on failure.
  std::map<std::string, NpyData> run(const std::string& model_bytes,
                                     const std::map<std::string, NpyData>& inputs) {
    { std::ofstream(dir_ / "model.onnx", std::ios::binary) << model_bytes; }
    return run_file(dir_ / "model.onnx", inputs);
  }
  std::map<std::string, NpyData> run_file(const std::filesystem::path& model,
                                          const std::map<std::string, NpyData>& inputs,
                                          const std::string& extra = "") {
    std::string cmd =
        "node " +
        (std::filesystem::path(PITLANE_SOURCE_DIR) / "tools/interop/ort_run.js").string() + " " +
        model.string() + " " + (dir_ / "out").string();
    for (const auto& [name, a] : inputs) {
      const auto file = dir_ / (name + ".npy");
      write_npy_any(file, a);
      cmd += " " + name + "=" + file.string();
    }
    std::filesystem::remove_all(dir_ / "out");
    cmd += " " + extra + " > " + (dir_ / "log.txt").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream log(dir_ / "log.txt");
      throw std::runtime_error(
          "ort_run.js failed: " +
          std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>()));
    }
    std::map<std::string, NpyData> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "out"))
      out[e.path().stem().string()] = read_npy_any(e.path());
    return out;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace pitlane::runtime::testing
