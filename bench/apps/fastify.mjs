// The benchmark's routes on Fastify 5: node fastify.mjs --host H --port P
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } } });
const app = Fastify({ logger: false });
app.get('/', (req, reply) => { reply.type('text/plain;charset=UTF-8'); return 'Hello, World!'; });
app.get('/json', () => ({ message: 'Hello, World!' }));
app.get('/user/:id', (req) => ({ id: req.params.id, agent: req.headers['user-agent'] ?? null }));

const address = await app.listen({ host: values.host, port: Number(values.port) });
console.log(`fastify listening on ${address}/`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
