// PilotNet's architecture and weights as plain data (no libtorch): the exchange format between
// the trainer (libtorch), the ONNX writer and the tests.
//
// Two variants (NVIDIA 2016 layers: input BatchNorm; Conv 24@5x5/2, 36@5x5/2, 48@5x5/2, 64@3x3/1,
// 64@3x3/1, ReLU; Flatten; Dense 1164, 100, 50, 10, ReLU; Dense 2):
//   valid: no padding (the paper, the PyTorch port): flatten 1152, ~1.6 M parameters
//   same:  TensorFlow "same" padding, asymmetric for stride 2 (more at the bottom/right):
//          flatten 14400, 17,016,206 parameters
//
//   PilotNetWeights net = pilotnet_skeleton(Arch::same);   // shapes, zero weights
//   net.parameter_count();                                 // 17016206
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pitlane::train {

enum class Arch { valid, same };

// "pilotnet" or "pilotnet-same".
std::string arch_name(Arch arch);
// Parses "pilotnet" / "pilotnet-valid" / "pilotnet-same"; InputError otherwise.
Arch parse_arch(const std::string& name);

struct BatchNormLayer {
  int channels = 3;
  float epsilon = 1e-5f;
  std::vector<float> scale, bias, mean, var;  // [channels] each
};

struct ConvLayer {
  int in_channels = 0, out_channels = 0;
  int kernel = 0, stride = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // explicit padding, px
  int out_height = 0, out_width = 0;  // output size for the model's input size, px
  std::vector<float> weight;          // [out_channels, in_channels, kernel, kernel]
  std::vector<float> bias;            // [out_channels]
};

struct DenseLayer {
  int in_features = 0, out_features = 0;
  std::vector<float> weight;  // [out_features, in_features] (ONNX Gemm with transB=1)
  std::vector<float> bias;    // [out_features]
};

struct PilotNetWeights {
  Arch arch = Arch::valid;
  int input_height = 66, input_width = 200;  // network input, px
  BatchNormLayer input_norm;                 // BatchNorm on the input image
  std::vector<ConvLayer> convs;              // each followed by ReLU
  std::vector<DenseLayer> dense;             // ReLU after all but the last

  // Parameters as Keras counts them (BatchNorm's running mean and variance included).
  int64_t parameter_count() const;
};

// The architecture with every weight vector sized and zero-filled.
PilotNetWeights pilotnet_skeleton(Arch arch, int input_height = 66, int input_width = 200);

// Folds the input BatchNorm into the first convolution (exact when that convolution has no
// padding: the valid variant) and leaves an identity BatchNorm (epsilon 0), so that fine-tuning
// and int8 export see the weights the deployed model computes with. False, and `net` unchanged,
// when the first convolution pads (folding would change the border pixels).
bool fold_input_norm(PilotNetWeights& net);

}  // namespace pitlane::train
