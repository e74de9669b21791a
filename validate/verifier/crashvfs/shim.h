/*
 * The part of SQLite's VFS interface (https://www.sqlite.org/c3ref/vfs.html,
 * https://www.sqlite.org/c3ref/io_methods.html) that the crash shim uses,
 * declared here because the SQLite this binary links is the one
 * github.com/mattn/go-sqlite3 compiles, whose header is not on this
 * package's include path. The layouts are SQLite's stable ABI (version 3
 * of both structs); the names are this package's own.
 */
#ifndef CALLDIR_CRASHVFS_SHIM_H
#define CALLDIR_CRASHVFS_SHIM_H

typedef long long cv_i64;
typedef struct cv_file cv_file;
typedef struct cv_io cv_io;
typedef struct cv_vfs cv_vfs;

struct cv_file {
	const cv_io *methods;
};

struct cv_io {
	int version;
	int (*close)(cv_file *);
	int (*read)(cv_file *, void *, int, cv_i64);
	int (*write)(cv_file *, const void *, int, cv_i64);
	int (*truncate)(cv_file *, cv_i64);
	int (*sync)(cv_file *, int);
	int (*file_size)(cv_file *, cv_i64 *);
	int (*lock)(cv_file *, int);
	int (*unlock)(cv_file *, int);
	int (*check_reserved)(cv_file *, int *);
	int (*file_control)(cv_file *, int, void *);
	int (*sector_size)(cv_file *);
	int (*device_characteristics)(cv_file *);
	/* version 2: shared memory for the WAL index */
	int (*shm_map)(cv_file *, int, int, int, void volatile **);
	int (*shm_lock)(cv_file *, int, int, int);
	void (*shm_barrier)(cv_file *);
	int (*shm_unmap)(cv_file *, int);
	/* version 3: memory-mapped reads */
	int (*fetch)(cv_file *, cv_i64, int, void **);
	int (*unfetch)(cv_file *, cv_i64, void *);
};

struct cv_vfs {
	int version;
	int file_bytes;    /* size of the file object xOpen fills */
	int max_path;
	cv_vfs *next;
	const char *name;
	void *app_data;
	int (*open)(cv_vfs *, const char *, cv_file *, int, int *);
	int (*remove)(cv_vfs *, const char *, int);
	int (*access)(cv_vfs *, const char *, int, int *);
	int (*full_pathname)(cv_vfs *, const char *, int, char *);
	void *(*dl_open)(cv_vfs *, const char *);
	void (*dl_error)(cv_vfs *, int, char *);
	void (*(*dl_sym)(cv_vfs *, void *, const char *))(void);
	void (*dl_close)(cv_vfs *, void *);
	int (*randomness)(cv_vfs *, int, char *);
	int (*sleep)(cv_vfs *, int);
	int (*current_time)(cv_vfs *, double *);
	int (*get_last_error)(cv_vfs *, int, char *);
	/* version 2 */
	int (*current_time_i64)(cv_vfs *, cv_i64 *);
	/* version 3: system-call overrides (left out: version 2 is declared) */
	void *set_system_call, *get_system_call, *next_system_call;
};

/* Defined by the SQLite that go-sqlite3 links into the same binary. */
cv_vfs *sqlite3_vfs_find(const char *name);
int sqlite3_vfs_register(cv_vfs *vfs, int make_default);

int crashvfs_register(const char *name, const char *base);

#endif
