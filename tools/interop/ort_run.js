#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime on NumPy .npy inputs and writes each output as .npy.
// pitlane's tests use it as the independent oracle; benchmarks use it as the latency peer.
//
//   node ort_run.js MODEL.onnx OUT_DIR name=input.npy [name=input.npy ...]
//       [--threads N] [--bench RUNS] [--warmup N]
//
// Writes OUT_DIR/<output name>.npy for every model output. With --bench it also times RUNS
// inferences after the warm-up and prints one JSON line {"latency_us": [...]} to stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
  '<i4': ['int32', Int32Array], '<i8': ['int64', BigInt64Array],
  '<u2': ['float16', Uint16Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12);
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
      .filter(s => s.length).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order unsupported`);
  const [type, Ctor] = DTYPES[descr] || (() => { throw new Error(`${file}: dtype ${descr}`); })();
  const offset = start + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(offset, offset + count * Ctor.BYTES_PER_ELEMENT);
  const data = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return new ort.Tensor(type, data, shape);
}

function writeNpy(file, tensor) {
  const entry = Object.entries(DTYPES).find(([, [t]]) => t === tensor.type);
  if (!entry) throw new Error(`output type ${tensor.type} unsupported`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const args = process.argv.slice(2);
  let threads = 1, benchRuns = 0, warmup = 20;
  const positional = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--bench') benchRuns = Number(args[++i]);
    else if (args[i] === '--warmup') warmup = Number(args[++i]);
    else positional.push(args[i]);
  }
  if (positional.length < 2) {
    console.error('usage: ort_run.js MODEL.onnx OUT_DIR name=input.npy ... [--threads N] [--bench RUNS]');
    process.exit(2);
  }
  const [model, outDir, ...inputs] = positional;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const spec of inputs) {
    const eq = spec.indexOf('=');
    feeds[spec.slice(0, eq)] = readNpy(spec.slice(eq + 1));
  }
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames) writeNpy(path.join(outDir, `${name}.npy`), results[name]);
  if (benchRuns > 0) {
    for (let i = 0; i < warmup; ++i) await session.run(feeds);
    const lat = [];
    for (let i = 0; i < benchRuns; ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    console.log(JSON.stringify({ latency_us: lat }));
  }
}

main().catch(e => { console.error(`ort_run.js: ${e.message}`); process.exit(1); });
