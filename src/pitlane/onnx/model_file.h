// ONNX files: the one place a model file is parsed from or written to protobuf. Reading is
// bounded (file size, node count) and every failure is an InputError naming the file; writing
// runs ONNX's full checker first and replaces the file atomically, so a model pitlane writes is
// one ONNX Runtime loads.
//
//   ::onnx::ModelProto m = read_model("pilotnet.onnx");
//   set_metadata(m, "pitlane.recipe", "int8");
//   write_model(m, "pilotnet_int8.onnx");
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace onnx {
class ModelProto;
}

namespace pitlane::onnx {

// Largest ONNX file accepted (all weights must live inside the file).
inline constexpr size_t kMaxModelBytes = size_t{1} << 30;
// Most nodes a graph may have.
inline constexpr int kMaxNodes = 1 << 20;

// Parses a serialized model. InputError "<source>: ..." when it is too large, not ONNX, has no
// graph or too many nodes.
::onnx::ModelProto parse_model(std::string_view bytes, const std::string& source);
::onnx::ModelProto read_model(const std::filesystem::path& path);

// onnx::checker::check_model plus strict shape inference (ONNX's full check). InputError naming
// `source` with the checker's message.
void check_model(const ::onnx::ModelProto& model, const std::string& source);
// check_model, then an atomic write (temporary file + rename): nothing is written on failure.
void write_model(const ::onnx::ModelProto& model, const std::filesystem::path& path);

std::map<std::string, std::string> metadata(const ::onnx::ModelProto& m);
void set_metadata(::onnx::ModelProto& m, const std::string& key, const std::string& value);
// The default-domain opset the model imports (0 if none).
int64_t default_opset(const ::onnx::ModelProto& m);

// Printable, bounded version of a name taken from a file (for error messages).
std::string printable(std::string_view name);

}  // namespace pitlane::onnx
