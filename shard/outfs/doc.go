// Package outfs is the one authority for what calldir reads and writes.
// Every command declares the paths of a run before any work, and every
// write goes through here, so that the rules of docs/GUARANTEES.md are
// implemented once:
//
//	Plan: Read, ReadDir, Scratch, WriteFile, Output   (declare)
//	  │
//	  ▼
//	Check ── overlap by resolved path and device+inode ──▶ *OverlapError
//	  │   ── a write inside another calldir output      ──▶ *InsideOutputError
//	  │   ── an output calldir did not make (Mark)      ──▶ *ForeignError
//	  │   ── an output on a mount point                 ──▶ *MountPointError
//	  ▼
//	Output.Stage ──▶ fill the stage ──▶ Commit(stages...)
//	                                     lock parents (flock on the directories)
//	                                     Inspect again, run each Guard
//	                                     swap each in order (exchange, or two renames)
//
// Writing comes in three forms, one implementation each: replace a whole
// output calldir made (Stage, Commit); add an immutable file to a
// directory calldir owns (AddFile); replace one file the user named
// (CreateFile: a regular file through a temporary sibling, a FIFO or
// device written through, a symlink followed, a directory or socket
// refused). LockDir serializes read-write state such as a cache. A file
// calldir makes in place (a kept SQLite database) is cleared only when its
// FileMark proves it calldir's (ClearFile).
//
// Replacing an output that exists is one atomic swap where the system
// has one: renameat2(RENAME_EXCHANGE) on Linux, renamex_np(RENAME_SWAP)
// on macOS (APFS). The path holds the previous output or the new one at
// every instant, and after a crash or power loss whichever the file system
// recorded; the other is left in the stage, which is then removed (by the
// next run, as a dead run's temporary, if this one died first).
//
// Elsewhere (Windows, the BSDs), and on a file system that refuses the
// swap (Linux: ENOSYS, EINVAL or EOPNOTSUPP, as NFS does; macOS: ENOTSUP,
// EOPNOTSUPP, EINVAL or ENOSYS, as an MS-DOS volume does), Commit falls
// back to two renames: the output to its stage's name + ".old", then the
// stage to the output's path. This fallback guarantees less:
//
//   - Between the two renames the path does not exist: a reader then finds
//     no output (ENOENT), never a partial one or a mix of two. A calldir
//     run writing an output in the same directory waits for the parent's
//     lock (where the file system has flock) and so never sees the
//     window; a reader, calldir's own included (validate, --base), may.
//   - If the second rename fails, the first is undone and Commit returns
//     the error: the path holds the previous output (were the undo to
//     fail too, the previous output stays in the ".old", as after a
//     crash).
//   - A crash in the window (kill -9, power loss) leaves the path missing,
//     the previous output whole in ".NAME.calldir-tmp-OWNER-RANDOM.old"
//     and the new one whole in ".NAME.calldir-tmp-OWNER-RANDOM" (each
//     with its manifest). Nothing puts the ".old" back by itself; the next
//     run writing the output removes the dead run's stage, keeps the
//     ".old" (while the path is missing it is the only copy of the
//     previous output; moving it back to NAME by hand restores it), and
//     writes its own output to the path as to a new one: its guards find
//     no previous output to compare with. The run after that, finding the
//     output in place, removes the ".old".
//
// Every temporary carries calldir's mark and an owner token (Owner: the
// PID and PID namespace), so that a later run removes those of dead
// processes (RemoveStaleTemps, RemoveStale) and never a live one's.
// Scratch files and directories (CreateScratch, ScratchDir) are a run's
// own working files.
//
// The formats register their marks (shard.BuildMark, shard.DeltaMark,
// livelookup.Mark) from init, so that an output of one kind is never
// replaced by another's and a write inside any of them is refused.
package outfs
