// Preloaded (node --import) into an `amber` child process a test starts against FakeAwsEstate: `localhost` and its
// subdomains resolve to 127.0.0.1, as FakeAwsEstate arranges in the test's own process (the SDK addresses S3
// Control at `<account>.<endpoint host>`).
import dns from 'node:dns';

const original = dns.lookup;
dns.lookup = (host, ...rest) => original.call(dns, host === 'localhost' || String(host).endsWith('.localhost') ? '127.0.0.1' : host, ...rest);
