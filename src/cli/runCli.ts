import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { deviceOption } from './deviceOption.js';
import { OUTPUT_FORMATS, type OutputFormat } from './formatOutput.js';
import type { CliIO } from './CliIO.js';
import { predict } from './predict.js';
import { message } from './preparePredict.js';
import type { PredictOptions } from './PredictOptions.js';
import type { ServeOptions } from './ServeOptions.js';
import { EXIT_OK, EXIT_USAGE } from './UsageError.js';

const HELP_AFTER = `
Input mapping (JSON line -> model inputs):
  By default a line that is an array is the input; an object gives its \`input\` field, else \`features\`.
  --input-field FIELD picks another field (a.b for nested, . for the whole line). Multi-input models read
  each input from the field of the same name, or from --input-field NAME=FIELD (repeatable). Values are
  numbers or nested arrays; a flat array is reshaped to the model's fixed per-record shape, or to --shape.

Output (one JSON line per record, in input order, with "line" and, with --id-field, "id"):
  full    {"line","model","outputs":{name:{"dtype","dims","data"}}}
  array   {"line","output":[...nested]}   (several outputs: "outputs":{name:[...]})
  argmax  {"line","class","score"}
  topk    {"line","top":[{"class","score"},...]}  (--top-k K)

Dead letters (--dead-letter FILE): {"line","id","stage","error","reason","raw","rawLength","truncated"}
for malformed JSON, wrong shape or length, non-numeric values, too-long lines and inference errors.

Redis streams (several workers share one stream; at-least-once, see docs/scale-out.md):
  --input redis://[user:pass@]HOST:PORT/STREAM?group=GROUP[&consumer=NAME&minIdleMs=30000&maxDeliveries=5]
  --output redis://HOST:PORT/STREAM   --dead-letter redis://HOST:PORT/STREAM (default: STREAM:dead-letter)
  Entries carry the JSON record in field "data"; outputs and dead letters carry "id" (the input entry's id) and
  "data" (the line above). rediss:// for TLS. A worker runs until SIGTERM/SIGINT, then finishes what it holds
  and exits 0. --max-in-flight bounds the entries it holds (and the duplicates after a crash).

Exit codes:
  0    every record was scored
  1    some records failed (see the dead-letter file, or standard error without one)
  2    usage error, unreadable input or output, model load failure, or the job could not run
  130  interrupted (SIGINT/SIGTERM, also while the model loads): the output holds the records done so far;
       the summary counts those read but not written
  141  the reader of the output went away (| head -1): stopped quietly, as Unix tools do (--summary-json is written)

Examples:
  rxjs-inference predict --model model.onnx --input in.jsonl --output out.jsonl --dead-letter bad.jsonl
  cat in.jsonl | rxjs-inference predict --model model.onnx --output-format topk --top-k 3 --softmax > out.jsonl
  rxjs-inference predict --model web/model.json --input in.jsonl --input-field pixels --shape 28,28,1
  rxjs-inference predict --model models/v1.onnx --watch 'models/*.onnx' --input in.jsonl --output out.jsonl
  rxjs-inference predict --model model.onnx --input 'redis://localhost:6379/jobs?group=scorers' --output redis://localhost:6379/scores
`;

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got \`${value}\`.`);
    }
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got \`${value}\`.`);
  }
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface RawServeOptions extends Omit<ServeOptions, 'quiet' | 'verbose'> {
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

const SERVE_HELP_AFTER = `
Routes (Open Inference Protocol, as Triton, KServe and MLServer speak it):
  GET  /v2                                  server metadata
  GET  /v2/health/live, /v2/health/ready    liveness, readiness (503 until the model is loaded, and while stopping)
  GET  /v2/models/NAME[/versions/1]         model metadata: inputs and outputs with datatype and shape
  GET  /v2/models/NAME[/versions/1]/ready   model readiness
  POST /v2/models/NAME[/versions/1]/infer   {"inputs":[{"name","shape","datatype","data"}]} → {"outputs":[...]}
  GET  /metrics                             Prometheus text
A request whose first dimension is n carries n examples, batched with other requests' examples. Errors answer
{"error": "..."}: 400 bad request (naming the field), 404 unknown model or route, 413 body over --max-body-bytes,
503 queue full or stopping, 504 past --request-timeout-ms. SIGINT/SIGTERM: stop accepting, answer what is in flight,
exit 0.

Example:
  rxjs-inference serve --model model.onnx --port 8000
  curl -s localhost:8000/v2/models/model/infer -d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}'
`;

interface RawOptions extends Omit<PredictOptions, 'inputFields' | 'shapes' | 'softmax' | 'quiet' | 'verbose'> {
  readonly inputField?: string[];
  readonly shape?: string[];
  readonly softmax?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

/**
 * The options `predict` and `serve` share: the model, its runtime and device, batching, workers, timeouts, `--watch`
 * and verbosity. Defined once, so that both commands take the same spelling, defaults and checks.
 */
function addModelOptions(command: Command): Command {
  return command
    .requiredOption('-m, --model <file>', '.onnx model, or TF.js model.json (or its directory)')
    .option('--max-batch-size <n>', 'largest batch (default: 1024; 4096 with a --device other than cpu)', integer(1))
    .option('--min-batch-size <n>', 'smallest batch (default: 1)', integer(1))
    .option('--max-batch-duration-ms <ms>', 'run a partial batch this long after its first record', positive)
    .option('--concurrent <n>', 'batches in flight at once (default: 2 × --workers, else 1)', integer(1))
    .option(
      '--workers <n>',
      'ONNX: run the model in N worker threads (2N batches in flight unless --concurrent)',
      integer(1),
    )
    .option(
      '--threads <n>',
      "ONNX: intra-op threads of each session (default: onnxruntime's, one per core; with --workers, cores ÷ N each)",
      integer(1),
    )
    .option(
      '--timeout-ms <ms>',
      'fail a batch (its records become dead letters) after this long; loads are not bounded',
      positive,
    )
    .option('--watch <glob>', 'model files to watch: a newer file replaces the model while the job runs')
    .option('--watch-interval-ms <ms>', 'time between polls of --watch', positive, 5000)
    .addOption(
      new Option('--runtime <runtime>', 'model runtime (default: from the model path)').choices(['onnx', 'tfjs']),
    )
    .addOption(
      new Option('--model-type <type>', 'TF.js model type (default: from model.json)').choices(['layers', 'graph']),
    )
    .addOption(
      new Option('--backend <backend>', 'TF.js backend (default: best installed)').choices([
        'tensorflow',
        'wasm',
        'cpu',
        'webgpu',
      ]),
    )
    .addOption(deviceOption())
    .option('-q, --quiet', 'no progress and no summary')
    .option('-v, --verbose', 'also report model load time, peak memory and the TF.js backend');
}

/** What the command line asked for. */
type ParsedCommand =
  | { readonly command: 'predict'; readonly options: PredictOptions }
  | { readonly command: 'serve'; readonly options: ServeOptions };

/** Builds the `rxjs-inference` program; `onCommand` receives the command asked for and its parsed options. */
function createProgram(io: CliIO, version: string, onCommand: (parsed: ParsedCommand) => void): Command {
  const program = new Command('rxjs-inference')
    .description(
      "Score JSON lines with an ONNX or TensorFlow.js model, or serve it over HTTP (Apache Beam's RunInference, for RxJS).",
    )
    .version(version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  addModelOptions(
    program.command('predict').description('Run the model on every line of a JSON-lines file (or standard input).'),
  )
    .option('-i, --input <file>', 'JSON-lines input (default: standard input; - for standard input)')
    .option('-o, --output <file>', 'JSON-lines output (default: standard output; - for standard output)')
    .option('--dead-letter <file>', 'JSON lines of failed records (default: described on standard error)')
    .option('--input-field <spec>', 'field of the model input: FIELD, or INPUT=FIELD per input (repeatable)', collect)
    .option(
      '--shape <spec>',
      'reshape a flat array: D1,D2,... or INPUT=D1,D2,... (one -1 allowed; repeatable)',
      collect,
    )
    .option('--id-field <field>', 'copy this field of each record into its output line as "id"')
    .addOption(new Option('--output-format <format>', 'output line format').choices(OUTPUT_FORMATS).default('array'))
    .option('--output-name <name>', 'the model output that array/argmax/topk read (default: all / the first)')
    .option('-k, --top-k <k>', 'classes kept by --output-format topk', integer(1), 5)
    .option('--softmax', 'argmax/topk scores are softmax probabilities')
    .option('--precision <digits>', 'significant digits of float outputs (default: 9 for float32)', integer(1))
    .option('--max-in-flight <n>', 'records read but not yet written before reading pauses', integer(1), 8192)
    .option(
      '--max-line-length <bytes>',
      'longer lines are dead letters, cut as they are read, never parsed',
      integer(1),
      8 * 1024 * 1024,
    )
    .option('--max-raw-length <chars>', 'characters of a line kept in its dead letter', integer(0), 1024)
    .option('--no-progress', 'no progress on standard error')
    .option(
      '--progress-interval-ms <ms>',
      'time between progress lines when standard error is not a terminal',
      positive,
      10000,
    )
    .option('--summary-json <file>', 'write the summary and every metric as JSON')
    .addHelpText('after', HELP_AFTER)
    .action((raw: RawOptions) => {
      const { inputField = [], shape = [], softmax = false, quiet = false, verbose = false, ...rest } = raw;
      onCommand({
        command: 'predict',
        options: {
          ...rest,
          inputFields: inputField,
          shapes: shape,
          softmax,
          quiet,
          verbose,
          outputFormat: raw.outputFormat as OutputFormat,
        },
      });
    });
  addModelOptions(
    program
      .command('serve')
      .description('Serve the model over HTTP with the Open Inference Protocol (KServe v2 REST), batching requests.'),
  )
    .option('--name <name>', "the model's name in the routes (default: the model file's name)")
    .option('--host <host>', 'address to listen on (0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on (0: a free port, printed on standard output)', integer(0), 8000)
    .option(
      '--max-body-bytes <bytes>',
      'larger request bodies get 413 before they are parsed',
      integer(1),
      8 * 1024 * 1024,
    )
    .option(
      '--request-timeout-ms <ms>',
      'a request must arrive within this time (else 408) and be answered within it again (else 504)',
      integer(1),
      30000,
    )
    .option(
      '--max-queued-requests <n>',
      'examples waiting for the model past which requests get 503',
      integer(1),
      10000,
    )
    .addHelpText('after', SERVE_HELP_AFTER)
    .action((raw: RawServeOptions) => {
      const { quiet = false, verbose = false, ...rest } = raw;
      onCommand({ command: 'serve', options: { ...rest, quiet, verbose } });
    });
  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves the exit code. Never throws and never
 * calls `process.exit`: the caller owns the process.
 */
export async function runCli(argv: readonly string[], io: CliIO, version = '0.0.0'): Promise<number> {
  let parsed: ParsedCommand | undefined;
  const program = createProgram(io, version, (command) => (parsed = command));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0
        ? EXIT_OK
        : EXIT_USAGE;
    }
    io.stderr.write(`rxjs-inference: ${message(error)}\n`);
    return EXIT_USAGE;
  }
  if (parsed === undefined) return EXIT_USAGE;
  try {
    return parsed.command === 'serve'
      ? // Loaded on demand: `predict` does not pay for the HTTP serving stack's modules.
        await (await import('./serve.js')).serve(parsed.options, io, version)
      : await predict(parsed.options, io);
  } catch (error) {
    io.stderr.write(
      `rxjs-inference: error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT_USAGE;
  }
}
