// The part of autocannon's API the TypeScript benchmark parts use (it ships no types).
declare module 'autocannon' {
  interface Result {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  }
  function autocannon(options: { url: string; connections: number; duration: number }, done: (error: Error | null, result: Result) => void): unknown;
  export default autocannon;
}
