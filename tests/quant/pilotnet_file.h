// A seeded PilotNet as pitlane's writer lays it out, with the output shape declared (the ONNX
// checker that pitlane optimize runs wants one), written to a file for the quantization tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>

#include "../runtime/onnx_builder.h"
#include "pitlane/core/files.h"

namespace pitlane::testing {

inline void write_pilotnet(const std::filesystem::path& path, runtime::testing::Padding padding,
                           int seed) {
  ::onnx::ModelProto m;
  m.ParseFromString(
      runtime::testing::pilotnet_onnx(padding, runtime::testing::Exporter::pitlane, 13, seed));
  auto* shape =
      m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  shape->add_dim()->set_dim_value(2);
  write_file_atomic(path, m.SerializeAsString());
}

}  // namespace pitlane::testing
