/**
 * nginx in two parts: the static backend (fixed answers from `return 200`, several workers, never
 * the bottleneck) and the reference reverse proxy (`upstream` with `keepalive`,
 * `proxy_http_version 1.1`, `proxy_buffering off`). Each runs in the foreground from its own
 * temp prefix (config, pid, logs and temp paths), so it needs no /etc/nginx or /var/lib/nginx.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreSet } from './cores.ts';
import { chatCompletionJson, metricsText, modelsJson } from './fake-vllm.ts';
import { httpProbe, spawnPinned, tempDir, type Pinned } from './procs.ts';

/** An nginx config string literal: quotes and backslashes escaped, newlines as `\n`; no `$` (variables). */
function literal(text: string): string {
  if (text.includes('$')) throw new Error('nginx would read "$" in a returned body as a variable');
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function mainConfig(dir: string, workers: number, http: string): string {
  // Root's workers would run as `nobody`; running them as root spares permission trouble in /tmp.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 65536;
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  tcp_nodelay on;
${http}
}
`;
}

async function startNginx(name: string, cores: CoreSet, workers: number, http: string, port: number) {
  const dir = tempDir(name);
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'nginx.conf'), mainConfig(dir, workers, http));
  return spawnPinned({
    name,
    cores,
    command: 'nginx',
    args: ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
    ready: httpProbe(`http://127.0.0.1:${port}/health`),
  });
}

/**
 * The static vLLM look-alike: `POST /v1/chat/completions` (and `/v1/completions`) answer the fixed
 * ~1 KB chat.completion; `/v1/models`, `/metrics` and `/health` let meshd's gpu role scrape it.
 */
export async function startStaticBackend(cores: CoreSet, port: number): Promise<Pinned & { url: string }> {
  const http = `  server {
    listen 127.0.0.1:${port} backlog=65535 reuseport;
    location = /v1/chat/completions { default_type application/json; return 200 ${literal(chatCompletionJson())}; }
    location = /v1/completions { default_type application/json; return 200 ${literal(chatCompletionJson())}; }
    location = /v1/models { default_type application/json; return 200 ${literal(modelsJson())}; }
    location = /metrics { default_type text/plain; return 200 ${literal(metricsText())}; }
    location = /health { return 200 ''; }
    location / { return 404; }
  }`;
  const p = await startNginx('nginx-backend', cores, cores.cores.length, http, port);
  return { ...p, url: `http://127.0.0.1:${port}` };
}

/** nginx as a real reverse proxy in front of `backendPort`, one worker per core of `cores`. */
export async function startNginxProxy(
  cores: CoreSet,
  port: number,
  backendPort: number,
): Promise<Pinned & { url: string }> {
  const http = `  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 1024;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port} backlog=65535 reuseport;
    location = /health { return 200 ''; }
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }`;
  const p = await startNginx('nginx-proxy', cores, cores.cores.length, http, port);
  return { ...p, url: `http://127.0.0.1:${port}` };
}
