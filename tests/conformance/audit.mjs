// Runs graphql-http's GraphQL-over-HTTP audit against a running server and prints JSON.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs GRAPHQL_URL');
  process.exit(2);
}

async function describe(response) {
  if (!response) return null;
  let body = null;
  try {
    body = (await response.clone().text()).slice(0, 500);
  } catch {
    // the audit already read the body
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

const results = [];
for (const result of await auditServer({ url })) {
  results.push({
    id: result.id,
    name: result.name,
    level: result.name.split(' ', 1)[0],
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
    response: result.status === 'ok' ? null : await describe(result.response),
  });
}
process.stdout.write(JSON.stringify({ url, results }, null, 2) + '\n');
