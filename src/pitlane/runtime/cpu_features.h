// The CPU's instruction sets, probed once per process: the one place where the runtime asks the
// CPU what it has. The own kernels (kernels/) pick their instruction set from it when they are
// created, never per run; the oneDNN backend accepts bf16 plans from it; `pitlane --version`
// prints describe().
//
//   const CpuFeatures& cpu = cpu_features();  // probed on the first call, the same object after
//   if (cpu.avx512f && cpu.popcnt) ...        // e.g. the zero-skipping Gemm's AVX-512 kernel
//   std::puts(cpu.describe().c_str());        // "popcnt bmi avx2 fma avx512f ...; oneDNN avx2"
#pragma once

#include <string>

namespace pitlane::runtime {

// Each x86-64 flag: the CPU has the extension and the operating system saves its registers
// (GCC's __builtin_cpu_supports checks both).
struct CpuFeatures {
  bool popcnt = false;      // POPCNT
  bool bmi = false;         // BMI1 (tzcnt)
  bool avx2 = false;        // AVX2
  bool fma = false;         // FMA3
  bool avx512f = false;     // AVX-512 foundation: the fp32 kernels' AVX-512 versions
  bool avx512bw = false;    // AVX-512 byte and word instructions (the int8 kernel's widening)
  bool avx512dq = false;    // AVX-512 doubleword and quadword instructions
  bool avx512vl = false;    // AVX-512 on 128- and 256-bit registers
  bool avx512vnni = false;  // AVX-512 VNNI: vpdpwssd (the int8 kernel's dot products)
  bool avx512bf16 = false;  // AVX-512 BF16: native bf16 dot products (oneDNN's bf16 primitives)
  // oneDNN's effective instruction set as it names it ("avx512_core_amx", "avx2", ...): its own
  // probe, which ONEDNN_MAX_CPU_ISA can lower.
  const char* onednn_isa = "none";
  // oneDNN runs bf16 convolutions and inner products: its instruction set includes avx512_core
  // (native bf16 from avx512_core_bf16; emulated on plain avx512_core).
  bool onednn_bf16 = false;

  // One line: the flags the CPU has, then oneDNN's instruction set.
  std::string describe() const;
};

// This CPU's features, probed on the first call (thread-safe); later calls return the same object.
const CpuFeatures& cpu_features();

}  // namespace pitlane::runtime
