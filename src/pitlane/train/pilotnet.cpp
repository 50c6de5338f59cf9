#include "pitlane/train/pilotnet.h"

#include <algorithm>
#include <cmath>

#include "pitlane/core/error.h"
#include "pitlane/onnx/batchnorm.h"

namespace pitlane::train {

std::string arch_name(Arch arch) {
  return arch == Arch::same ? "pilotnet-same" : "pilotnet";
}

Arch parse_arch(const std::string& name) {
  if (name == "pilotnet" || name == "pilotnet-valid") return Arch::valid;
  if (name == "pilotnet-same") return Arch::same;
  throw InputError("--arch '" + name + "' is unknown; use pilotnet or pilotnet-same");
}

int64_t PilotNetWeights::parameter_count() const {
  int64_t n = static_cast<int64_t>(input_norm.scale.size() + input_norm.bias.size() +
                                   input_norm.mean.size() + input_norm.var.size());
  for (const auto& c : convs) n += static_cast<int64_t>(c.weight.size() + c.bias.size());
  for (const auto& d : dense) n += static_cast<int64_t>(d.weight.size() + d.bias.size());
  return n;
}

PilotNetWeights pilotnet_skeleton(Arch arch, int input_height, int input_width) {
  PilotNetWeights net;
  net.arch = arch;
  net.input_height = input_height;
  net.input_width = input_width;
  net.input_norm.channels = 3;
  net.input_norm.scale.assign(3, 1.0f);
  net.input_norm.bias.assign(3, 0.0f);
  net.input_norm.mean.assign(3, 0.0f);
  net.input_norm.var.assign(3, 1.0f);

  struct Spec {
    int out, kernel, stride;
  };
  const Spec specs[] = {{24, 5, 2}, {36, 5, 2}, {48, 5, 2}, {64, 3, 1}, {64, 3, 1}};
  int h = input_height, w = input_width, channels = 3;
  for (const auto& s : specs) {
    ConvLayer c;
    c.in_channels = channels;
    c.out_channels = s.out;
    c.kernel = s.kernel;
    c.stride = s.stride;
    if (arch == Arch::same) {
      // TensorFlow SAME: out = ceil(in / stride); the odd pixel of padding goes bottom/right.
      auto pads = [&](int in, int& before, int& after, int& out) {
        out = (in + s.stride - 1) / s.stride;
        const int total = std::max((out - 1) * s.stride + s.kernel - in, 0);
        before = total / 2;
        after = total - before;
      };
      pads(h, c.pad_top, c.pad_bottom, c.out_height);
      pads(w, c.pad_left, c.pad_right, c.out_width);
    } else {
      c.out_height = (h - s.kernel) / s.stride + 1;
      c.out_width = (w - s.kernel) / s.stride + 1;
    }
    if (c.out_height <= 0 || c.out_width <= 0) {
      throw InputError("pilotnet: input " + std::to_string(input_width) + "x" +
                       std::to_string(input_height) + " is too small for the valid variant");
    }
    c.weight.assign(static_cast<size_t>(s.out) * channels * s.kernel * s.kernel, 0.0f);
    c.bias.assign(s.out, 0.0f);
    h = c.out_height;
    w = c.out_width;
    channels = s.out;
    net.convs.push_back(std::move(c));
  }
  int features = channels * h * w;
  for (int out : {1164, 100, 50, 10, 2}) {
    DenseLayer d;
    d.in_features = features;
    d.out_features = out;
    d.weight.assign(static_cast<size_t>(out) * features, 0.0f);
    d.bias.assign(out, 0.0f);
    features = out;
    net.dense.push_back(std::move(d));
  }
  return net;
}

bool fold_input_norm(PilotNetWeights& net) {
  if (net.convs.empty()) return false;
  ConvLayer& c = net.convs.front();
  if (c.pad_top || c.pad_left || c.pad_bottom || c.pad_right) return false;
  BatchNormLayer& bn = net.input_norm;
  onnx::fold_into_following(onnx::batchnorm_affine(bn.scale, bn.bias, bn.mean, bn.var, bn.epsilon),
                            c.weight, c.bias, c.in_channels, c.kernel * c.kernel);
  bn.scale.assign(bn.channels, 1.0f);
  bn.bias.assign(bn.channels, 0.0f);
  bn.mean.assign(bn.channels, 0.0f);
  bn.var.assign(bn.channels, 1.0f);
  bn.epsilon = 0.0f;
  return true;
}

}  // namespace pitlane::train
