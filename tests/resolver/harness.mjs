// harness.mjs: starts a real `idra serve` (IDRA_BIN) in a temporary directory
// and talks to it over HTTPS, verified against the node's own trust anchor.
// A suite that cannot start the server fails; it never skips.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export class Node {
  constructor(config = {}) {
    this.config = config;
  }

  async start() {
    const bin = process.env.IDRA_BIN;
    if (!bin || !fs.existsSync(bin)) throw new Error(`IDRA_BIN does not name the idra binary: ${bin}`);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idra-resolver-'));
    this.data = path.join(this.dir, 'data');
    const configPath = path.join(this.dir, 'config.json');
    fs.writeFileSync(configPath, JSON.stringify({ threads: 2, listen: '127.0.0.1:0', ...this.config }));
    this.proc = spawn(bin, ['serve', '--data', this.data, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    const lines = readline.createInterface({ input: this.proc.stdout });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`idra did not start: ${this.stderr.slice(-2000)}`)), 60000);
      this.proc.on('exit', (code) => reject(new Error(`idra exited (${code}): ${this.stderr.slice(-2000)}`)));
      lines.on('line', (line) => {
        const m = line.match(/^idra listening on https:\/\/127\.0\.0\.1:(\d+)/);
        if (m) this.port = Number(m[1]);
        if (line.startsWith('admin:') && this.port) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.proc.removeAllListeners('exit');
    this.ca = fs.readFileSync(path.join(this.data, 'tls', 'ca.pem'));
    const admin = JSON.parse(fs.readFileSync(path.join(this.data, 'admin.json'), 'utf8'));
    this.adminAuth = 'Basic ' + Buffer.from(`${encodeURIComponent(admin.id)}:${admin.secret}`).toString('base64');
    return this;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((resolve) => this.proc.on('exit', resolve));
      this.proc.kill('SIGTERM');
      await exited;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // request sends one HTTPS request (no redirect following) and returns
  // {status, headers, body, json()}. |headers| may override Host.
  request(method, target, { headers = {}, body, admin = false } = {}) {
    return new Promise((resolve, reject) => {
      const h = { ...headers };
      if (admin) h.authorization = this.adminAuth;
      if (body !== undefined) {
        body = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] = h['content-type'] || 'application/json';
        h['content-length'] = Buffer.byteLength(body);
      }
      const req = https.request({
        host: '127.0.0.1', port: this.port, method, path: target, headers: h, ca: this.ca,
        servername: 'localhost', agent: false, timeout: 30000,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode, headers: res.headers, body: text, json: () => JSON.parse(text) });
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

// linkHeader parses an RFC 8288 Link field into [{target, rel, params}].
export function linkHeader(value) {
  const out = [];
  const re = /<([^>]*)>((?:\s*;\s*[a-zA-Z*]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))*)/g;
  for (const m of (value || '').matchAll(re)) {
    const params = {};
    for (const p of m[2].matchAll(/;\s*([a-zA-Z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,]*)/g)) {
      const v = p[2].startsWith('"') ? p[2].slice(1, -1).replace(/\\(.)/g, '$1') : p[2];
      (params[p[1]] ||= []).push(v);
    }
    out.push({ target: m[1], rel: params.rel?.[0], params });
  }
  return out;
}
