#include "pitlane/runtime/cpu_features.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <utility>

namespace pitlane::runtime {

namespace {

// oneDNN's instruction sets are cumulative bit masks: the name of the largest one contained.
const char* onednn_isa_name(dnnl::cpu_isa isa) {
  const auto bits = static_cast<unsigned>(isa);
  const std::pair<dnnl::cpu_isa, const char*> names[] = {
      {dnnl::cpu_isa::avx512_core_amx, "avx512_core_amx"},
      {dnnl::cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
      {dnnl::cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
      {dnnl::cpu_isa::avx512_core, "avx512_core"},
      {dnnl::cpu_isa::avx2_vnni, "avx2_vnni"},
      {dnnl::cpu_isa::avx2, "avx2"},
      {dnnl::cpu_isa::avx, "avx"},
      {dnnl::cpu_isa::sse41, "sse41"}};
  for (const auto& [set, name] : names) {
    const auto want = static_cast<unsigned>(set);
    if ((bits & want) == want) return name;
  }
  return "none";
}

CpuFeatures probe() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.popcnt = __builtin_cpu_supports("popcnt");
  f.bmi = __builtin_cpu_supports("bmi");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  f.onednn_isa = onednn_isa_name(isa);
  const auto avx512_core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  f.onednn_bf16 = (static_cast<unsigned>(isa) & avx512_core) == avx512_core;
  return f;
}

}  // namespace

std::string CpuFeatures::describe() const {
  const std::pair<bool, const char*> flags[] = {{popcnt, "popcnt"},
                                                {bmi, "bmi"},
                                                {avx2, "avx2"},
                                                {fma, "fma"},
                                                {avx512f, "avx512f"},
                                                {avx512bw, "avx512bw"},
                                                {avx512dq, "avx512dq"},
                                                {avx512vl, "avx512vl"},
                                                {avx512vnni, "avx512vnni"},
                                                {avx512bf16, "avx512bf16"}};
  std::string out;
  for (const auto& [has, name] : flags) {
    if (!has) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  if (out.empty()) out = "x86-64";
  out += "; oneDNN ";
  out += onednn_isa;
  if (onednn_bf16) out += " (bf16)";
  return out;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe();
  return features;
}

}  // namespace pitlane::runtime
