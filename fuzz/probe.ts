// Ad-hoc: what do sluice and llhttp make of the inputs given as arguments (JS string escapes)?
import { Llhttp } from './llhttp.js';
import { describe, runSluice } from './sluice.js';

const ll = new Llhttp();
await ll.start();
for (const arg of process.argv.slice(2)) {
  const input = Buffer.from(JSON.parse(`"${arg}"`) as string, 'latin1');
  const l = await ll.run(input);
  console.log(JSON.stringify(input.toString('latin1')).slice(0, 100));
  console.log('  sluice:', describe(runSluice([input])));
  console.log('  llhttp:', JSON.stringify(l).slice(0, 200));
}
await ll.close();
