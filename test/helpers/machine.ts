import { readdirSync, readFileSync } from 'node:fs';

// What a busy machine did to this process, for timing tolerances that must hold on a loaded CI
// runner as well as on a quiet one, each as strict as stated when nothing else runs.

/**
 * ns the threads of this process have spent ready to run but waiting for a CPU (Linux: the second
 * field of /proc/self/task/TID/schedstat), summed over threads: the main thread, and the helper
 * threads it may block on (V8's garbage collector runs on them; starved, a 50 MB heap took 200 ms).
 */
function waitedNs(): number {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let sum = 0;
  for (const task of tasks) {
    try {
      sum += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread has ended
    }
  }
  return sum;
}

/**
 * Starts counting the time this process waited for a CPU that other processes held; the returned
 * function gives the ms waited since. That is lateness the code under test could not avoid, and never
 * its own doing: time it spends computing or blocking the event loop is not counted. So an upper
 * bound of "nominal + tolerance + waited" is the plain tolerance on a quiet machine and gives back
 * what the machine took on a loaded one. Without /proc the wait reads 0: the plain tolerances.
 * (Reading costs about 0.1 ms: once per call or run, not per request.)
 */
export function cpuWait(): () => number {
  const start = waitedNs();
  return () => Math.max(0, waitedNs() - start) / 1e6;
}
