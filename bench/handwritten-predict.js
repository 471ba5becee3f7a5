// The hand-written baseline of the main-job row of `npm run bench` (issue 11), kept verbatim: what a user writes
// without the library. readline → JSON.parse → batches of 256 → session.run → JSON.stringify of each output row.
//   node bench/handwritten-predict.js MODEL INPUT.jsonl OUTPUT.jsonl
'use strict';
const fs = require('node:fs');
const readline = require('node:readline');
const ort = require('onnxruntime-node');

const BATCH = 256;

async function main([model, inputPath, outputPath]) {
  const session = await ort.InferenceSession.create(model);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const out = fs.createWriteStream(outputPath);
  const lines = readline.createInterface({ input: fs.createReadStream(inputPath), crlfDelay: Infinity });
  let batch = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const width = batch[0].features.length;
    const data = new Float32Array(batch.length * width);
    batch.forEach((record, i) => data.set(record.features, i * width));
    const results = await session.run({ [inputName]: new ort.Tensor('float32', data, [batch.length, width]) });
    const output = results[outputName].data;
    const size = output.length / batch.length;
    let chunk = '';
    for (let i = 0; i < batch.length; i++) {
      const row = Array.from(output.subarray(i * size, (i + 1) * size));
      chunk += JSON.stringify({ id: batch[i].id, output: row }) + '\n';
    }
    batch = [];
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  };
  for await (const line of lines) {
    if (line.trim() === '') continue;
    batch.push(JSON.parse(line));
    if (batch.length === BATCH) await flush();
  }
  await flush();
  await new Promise((resolve) => out.end(resolve));
}

main(process.argv.slice(2));
