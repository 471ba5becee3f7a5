/**
 * What a terminal shows after receiving `output`: a minimal emulator of the sequences the command and `cli-progress`
 * write (CR, LF as CR LF, `ESC[nG` column, `ESC[nK` erase in line, `ESC 7`/`ESC 8` save and restore the cursor,
 * `ESC[?25l`/`h` cursor visibility). Enough to tell whether two writers drew over each other's lines.
 */
export function terminalScreen(output: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = (): string[] => (lines[row] ??= []);
  for (let i = 0; i < output.length; i++) {
    const c = output[i];
    if (c === '\r') col = 0;
    else if (c === '\n') {
      row++;
      col = 0;
    } else if (c === '\u001b') {
      const next = output[i + 1];
      if (next === '7') {
        saved = { row, col };
        i++;
      } else if (next === '8') {
        ({ row, col } = saved);
        i++;
      } else if (next === '[') {
        const match = /^\[(\??)(\d*)([A-Za-z])/.exec(output.slice(i + 1));
        if (match === null) throw new Error(`unknown escape at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
        i += match[0].length;
        const n = match[2] === '' ? undefined : Number(match[2]);
        if (match[1] === '?') continue; // cursor visibility
        if (match[3] === 'G') col = (n ?? 1) - 1;
        else if (match[3] === 'K') {
          const current = line();
          if ((n ?? 0) === 0) current.length = Math.min(current.length, col);
          else if (n === 1) current.fill(' ', 0, col);
          else current.length = 0;
        } else throw new Error(`unknown escape ESC[${match[0]}`);
      } else throw new Error(`unknown escape ESC ${next}`);
    } else {
      const current = line();
      while (current.length < col) current.push(' ');
      current[col++] = c;
    }
  }
  return Array.from({ length: lines.length }, (_, k) => (lines[k] ?? []).join('').trimEnd());
}
