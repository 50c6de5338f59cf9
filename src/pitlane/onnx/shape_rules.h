// Internal to the ONNX layer: the shape rule of every operator (shapes.cpp), which the operator
// table (operators.cpp) points at. Each takes a node whose inputs have shapes and sets its
// outputs'.
#pragma once

#include "pitlane/onnx/graph.h"

namespace pitlane::onnx::shape_rules {

void conv(Graph& g, Node& n);
void gemm(Graph& g, Node& n);
void matmul(Graph& g, Node& n);
void binary(Graph& g, Node& n);      // Add, Sub, Mul, Div
void activation(Graph& g, Node& n);  // Relu, LeakyRelu, Elu, Sigmoid, Tanh
void batchnorm(Graph& g, Node& n);
void flatten(Graph& g, Node& n);
void reshape(Graph& g, Node& n);
void transpose(Graph& g, Node& n);
void concat(Graph& g, Node& n);
void identity(Graph& g, Node& n);
void dropout(Graph& g, Node& n);
void cast(Graph& g, Node& n);
void shape(Graph& g, Node& n);
void gather(Graph& g, Node& n);
void unsqueeze(Graph& g, Node& n);
void squeeze(Graph& g, Node& n);
void affine(Graph& g, Node& n);
void quantize(Graph& g, Node& n);
void dequantize(Graph& g, Node& n);
void quantized(Graph& g, Node& n);  // QLinearConv, QLinearMatMul, QGemm, *Integer, DynamicQuantize*

}  // namespace pitlane::onnx::shape_rules
