/*
 * A pass-through VFS over SQLite's "unix" VFS: every call goes to the real
 * file, except that writes, truncations, syncs, reads, closes and deletions
 * of the files the Go side tracks ask it first (hooks.go). Locking, shared
 * memory and memory-mapped reads are the real VFS's own, so WAL mode and
 * other connections behave as on the real VFS.
 */
#include <stdlib.h>
#include <string.h>
#include "shim.h"
#include "_cgo_export.h"

/* A shim file: its own methods, the id the Go side gave it (0: not
 * tracked), and the real VFS's file object right after it. */
typedef struct {
	const cv_io *methods;
	cv_file *real;
	long long id;
} shim_file;

#define REAL_OFFSET ((int)((sizeof(shim_file) + 15) & ~15))

static cv_vfs *base_vfs;
static cv_vfs shim_vfs;

static cv_file *real_of(cv_file *f) { return ((shim_file *)f)->real; }
static long long id_of(cv_file *f) { return ((shim_file *)f)->id; }

static int sh_close(cv_file *f) {
	cv_file *r = real_of(f);
	int rc = r->methods->close(r);
	if (id_of(f)) cvClose(id_of(f));
	return rc;
}

static int sh_read(cv_file *f, void *buf, int n, cv_i64 off) {
	cv_file *r = real_of(f);
	if (id_of(f)) {
		int rc = cvRead(id_of(f));
		if (rc) return rc;
	}
	return r->methods->read(r, buf, n, off);
}

static int sh_write(cv_file *f, const void *buf, int n, cv_i64 off) {
	cv_file *r = real_of(f);
	if (id_of(f)) {
		int rc = cvWrite(id_of(f), (void *)buf, n, off);
		if (rc) return rc;
	}
	return r->methods->write(r, buf, n, off);
}

static int sh_truncate(cv_file *f, cv_i64 size) {
	cv_file *r = real_of(f);
	if (id_of(f)) {
		int rc = cvTruncate(id_of(f), size);
		if (rc) return rc;
	}
	return r->methods->truncate(r, size);
}

/* A tracked file's sync is simulated by the Go side (it marks the data
 * durable); the real fsync is skipped, as the simulated disk is the
 * durability that matters. */
static int sh_sync(cv_file *f, int flags) {
	cv_file *r = real_of(f);
	if (id_of(f)) return cvSync(id_of(f), flags);
	return r->methods->sync(r, flags);
}

static int sh_file_size(cv_file *f, cv_i64 *size) {
	cv_file *r = real_of(f);
	return r->methods->file_size(r, size);
}

static int sh_lock(cv_file *f, int level) {
	cv_file *r = real_of(f);
	return r->methods->lock(r, level);
}

static int sh_unlock(cv_file *f, int level) {
	cv_file *r = real_of(f);
	return r->methods->unlock(r, level);
}

static int sh_check_reserved(cv_file *f, int *out) {
	cv_file *r = real_of(f);
	return r->methods->check_reserved(r, out);
}

static int sh_file_control(cv_file *f, int op, void *arg) {
	cv_file *r = real_of(f);
	return r->methods->file_control(r, op, arg);
}

static int sh_sector_size(cv_file *f) {
	cv_file *r = real_of(f);
	if (id_of(f)) return cvSectorSize(id_of(f));
	return r->methods->sector_size(r);
}

/* Tracked files claim no device guarantee: no atomic or
 * powersafe-overwrite sectors, no safe append. */
static int sh_device_characteristics(cv_file *f) {
	cv_file *r = real_of(f);
	if (id_of(f)) return 0;
	return r->methods->device_characteristics(r);
}

static int sh_shm_map(cv_file *f, int pg, int size, int extend, void volatile **pp) {
	cv_file *r = real_of(f);
	return r->methods->shm_map(r, pg, size, extend, pp);
}

static int sh_shm_lock(cv_file *f, int off, int n, int flags) {
	cv_file *r = real_of(f);
	return r->methods->shm_lock(r, off, n, flags);
}

static void sh_shm_barrier(cv_file *f) {
	cv_file *r = real_of(f);
	r->methods->shm_barrier(r);
}

static int sh_shm_unmap(cv_file *f, int del) {
	cv_file *r = real_of(f);
	return r->methods->shm_unmap(r, del);
}

/* Memory-mapped reads are refused (*pp = 0 makes SQLite read with xRead),
 * so that every read passes the hook. */
static int sh_fetch(cv_file *f, cv_i64 off, int n, void **pp) {
	(void)f; (void)off; (void)n;
	*pp = 0;
	return 0;
}

static int sh_unfetch(cv_file *f, cv_i64 off, void *p) {
	(void)f; (void)off; (void)p;
	return 0;
}

static const cv_io shim_io = {
	3, sh_close, sh_read, sh_write, sh_truncate, sh_sync, sh_file_size,
	sh_lock, sh_unlock, sh_check_reserved, sh_file_control, sh_sector_size,
	sh_device_characteristics, sh_shm_map, sh_shm_lock, sh_shm_barrier,
	sh_shm_unmap, sh_fetch, sh_unfetch,
};

static int sh_open(cv_vfs *v, const char *name, cv_file *f, int flags, int *out) {
	shim_file *sf = (shim_file *)f;
	int rc;
	(void)v;
	memset(sf, 0, sizeof *sf);
	sf->real = (cv_file *)((char *)f + REAL_OFFSET);
	sf->id = name ? cvOpen((char *)name, flags) : 0;
	if (sf->id < 0) return (int)-sf->id;
	rc = base_vfs->open(base_vfs, name, sf->real, flags, out);
	if (rc != 0) {
		if (sf->id) cvOpenFailed(sf->id);
		sf->methods = 0;
		return rc;
	}
	sf->methods = &shim_io;
	return 0;
}

static int sh_delete(cv_vfs *v, const char *name, int dir_sync) {
	int rc = cvDelete((char *)name, dir_sync);
	(void)v;
	if (rc >= 0) return rc;
	return base_vfs->remove(base_vfs, name, dir_sync);
}

static int sh_access(cv_vfs *v, const char *name, int flags, int *out) {
	(void)v;
	return base_vfs->access(base_vfs, name, flags, out);
}

static int sh_full_pathname(cv_vfs *v, const char *name, int n, char *out) {
	(void)v;
	return base_vfs->full_pathname(base_vfs, name, n, out);
}

/* crashvfs_register registers the shim under name over the VFS called
 * base; 0 on success, else a SQLite error code. */
int crashvfs_register(const char *name, const char *base) {
	base_vfs = sqlite3_vfs_find(base);
	if (!base_vfs) return 1;
	shim_vfs = *base_vfs;
	shim_vfs.version = 2; /* no system-call overrides */
	shim_vfs.next = 0;
	shim_vfs.name = name;
	shim_vfs.app_data = 0;
	shim_vfs.file_bytes = REAL_OFFSET + base_vfs->file_bytes;
	shim_vfs.open = sh_open;
	shim_vfs.remove = sh_delete;
	shim_vfs.access = sh_access;
	shim_vfs.full_pathname = sh_full_pathname;
	shim_vfs.set_system_call = shim_vfs.get_system_call = shim_vfs.next_system_call = 0;
	return sqlite3_vfs_register(&shim_vfs, 0);
}
