// Reading a server's CPU time from /proc: the stat line parser, on lines captured from a real
// PostgreSQL and on command names that would break a naive split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProcStat } from '../../../../bench/peers/server-cpu.ts';

// A PostgreSQL 18 checkpointer (ppid 4256, the postmaster): utime 35, stime 65 ticks.
const CHECKPOINTER =
  '4260 (postgres) S 4256 4260 4260 0 -1 4194368 7452 0 1 0 35 65 0 0 20 0 1 0 57314 664145920 103987 18446744073709551615 94806724313088 94806732814096 140726246693456 0 0 0 4194304 19951616 536873479 1 0 0 17 0 0 0 0 0 0 94806734912752 94806735168216 94807214157824 140726246701519 140726246701727 140726246701727 140726246703023 0\n';
// Its postmaster, which has reaped many backends: utime 0, stime 5, cutime 3629, cstime 1470.
const POSTMASTER =
  '4256 (postgres) S 4215 4210 1128 0 -1 4194560 10717 234819 0 28 0 5 3629 1470 20 0 1 0 57311 663011328 12421 18446744073709551615 94806724313088 94806732814096 140726246693456 0 0 0 4194304 19935232 84487 1 0 0 17 1 0 0 0 0 0 94806734912752 94806735168216 94807214157824 140726246701519 140726246701727 140726246701727 140726246703023 0';

describe('parseProcStat', () => {
  it('reads pid, name, state, ppid and the four CPU times of a captured backend line', () => {
    assert.deepEqual(parseProcStat(CHECKPOINTER), { pid: 4260, comm: 'postgres', state: 'S', ppid: 4256, utime: 35, stime: 65, cutime: 0, cstime: 0 });
  });

  it("reads the postmaster's reaped children's time (cutime, cstime)", () => {
    const stat = parseProcStat(POSTMASTER);
    assert.equal(stat.ppid, 4215);
    assert.deepEqual([stat.utime, stat.stime, stat.cutime, stat.cstime], [0, 5, 3629, 1470]);
  });

  it('counts fields from the last parenthesis, so a name with spaces and parentheses does not shift them', () => {
    const line = CHECKPOINTER.replace('(postgres)', '(a) b (c) d)');
    const stat = parseProcStat(line);
    assert.equal(stat.comm, 'a) b (c) d');
    assert.deepEqual([stat.ppid, stat.utime, stat.stime], [4256, 35, 65]);
  });

  it('refuses text that is not a stat line', () => {
    assert.throws(() => parseProcStat('no parentheses here'), /not a \/proc\/<pid>\/stat line/);
    assert.throws(() => parseProcStat('12 (x) S 1 2'), /cut short/);
  });
});
