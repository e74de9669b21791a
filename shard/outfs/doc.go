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
//	                                     swap each in order (RENAME_EXCHANGE)
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
