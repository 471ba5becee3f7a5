// One stream, several models: elements are [key, example] pairs, each key group has its own model, results keep
// input order and their keys. Models are loaded on first use and at most `maxModelsInMemory` stay loaded.
//
//   npx tsx examples/keyed-models.ts
import { from, lastValueFrom, toArray } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { KeyedModelHandler, modelHandler } from 'rxjs-inference/handlers';

/** A stand-in for a real model per market: multiplies by a factor it "loads". */
function pricingModel(name: string, factor: number) {
  return modelHandler({
    loadModel: () => {
      console.log(`  (loading the ${name} model)`);
      return factor;
    },
    runInference: (batch: readonly number[], f: number) => batch.map((x) => Math.round(x * f * 100) / 100),
    releaseModel: () => console.log(`  (releasing the ${name} model)`),
  });
}

async function main(): Promise<void> {
  const handler = new KeyedModelHandler<string, number, number>(
    [
      { keys: ['eu', 'uk'], handler: pricingModel('europe', 1.2) },
      { keys: ['us'], handler: pricingModel('america', 1.1) },
    ],
    { maxModelsInMemory: 1 },
  );
  const orders: [string, number][] = [
    ['eu', 10],
    ['us', 20],
    ['uk', 5],
    ['us', 7],
  ];
  const results = await lastValueFrom(from(orders).pipe(runInference(handler), toArray()));
  for (const [key, price] of results) console.log(`${key}: ${price}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
