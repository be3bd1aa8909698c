/*
 * A stand-in for libnvidia-ml.so.1 for machines without an NVIDIA driver. It exports the NVML
 * functions the adapter calls, with the real signatures, return codes and units (bytes, mW, MHz),
 * and serves two GPUs: 0 an H100 without MIG, 1 an A100 in MIG mode with two MIG instances.
 *
 * Environment:
 *   NVML_STUB_FAIL=<name>[,<name>...]  the named functions (e.g. nvmlInit_v2, nvmlDeviceGetTemperature)
 *                                       return NVML_ERROR_UNKNOWN (999); "lost" makes every device
 *                                       call return NVML_ERROR_GPU_IS_LOST (15).
 *   NVML_STUB_TEMP=<C>                 temperature of GPU 0 (default 44).
 *   NVML_STUB_ECC_UNCORRECTED=<n>      volatile uncorrected ECC count of GPU 0 (default 0).
 * Build with -DNVML_STUB_NO_MEMORY_V2 to leave nvmlDeviceGetMemoryInfo_v2 out, as old drivers do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct stub_device *nvmlDevice_t;

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct {
  unsigned int multiprocessorCount, sharedCopyEngineCount, sharedDecoderCount, sharedEncoderCount,
      sharedJpegCount, sharedOfaCount, gpuInstanceSliceCount, computeInstanceSliceCount;
  unsigned long long memorySizeMB;
} nvmlDeviceAttributes_t;

struct stub_device {
  int index;
  const char *name;
  const char *uuid;
  int is_mig;
  int parent;
  unsigned int gi_id, slices;
  unsigned long long total, reserved, used;
  unsigned int util_gpu, util_mem, temp, power_mw, limit_mw, sm_clock;
  unsigned long long reasons, ecc_unc, ecc_cor;
  unsigned int mig_mode;
};

#define MIB (1024ULL * 1024ULL)
static struct stub_device devices[] = {
    {0, "NVIDIA H100 80GB HBM3", "GPU-676c5b46-e845-dea5-ed46-856c61d9f30f", 0, -1, 0, 0, 81559 * MIB,
     480 * MIB, 1024 * MIB, 37, 12, 44, 127320, 700000, 1980, 0x1ULL, 0, 0, 0},
    {1, "NVIDIA A100-SXM4-80GB", "GPU-11111111-2222-3333-4444-555555555555", 0, -1, 0, 0, 81920 * MIB,
     512 * MIB, 0, 0, 0, 51, 90000, 400000, 1410, 0x4ULL | 0x40ULL, 0, 3, 1},
    /* MIG instances of GPU 1 (handles from nvmlDeviceGetMigDeviceHandleByIndex). */
    {0, "NVIDIA A100-SXM4-80GB MIG 1g.10gb", "MIG-aaaaaaaa-bbbb-cccc-dddd-000000000001", 1, 1, 9, 1,
     9856 * MIB, 0, 2048 * MIB, 0, 0, 51, 90000, 400000, 1410, 0, 0, 0, 1},
    {1, "NVIDIA A100-SXM4-80GB MIG 3g.40gb", "MIG-aaaaaaaa-bbbb-cccc-dddd-000000000002", 1, 1, 2, 3,
     40192 * MIB, 0, 0, 0, 0, 51, 90000, 400000, 1410, 0, 0, 0, 1},
};
static int initialized = 0;

static int fails(const char *fn) {
  const char *list = getenv("NVML_STUB_FAIL");
  if (!list) return 0;
  size_t n = strlen(fn);
  for (const char *p = list; (p = strstr(p, fn)) != NULL; p += n)
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
  return 0;
}

static int lost(void) {
  const char *list = getenv("NVML_STUB_FAIL");
  return list && strstr(list, "lost") != NULL;
}

#define ENTER(fn)                                   \
  do {                                              \
    if (!initialized) return 1; /* UNINITIALIZED */ \
    if (fails(fn)) return 999;  /* UNKNOWN */       \
  } while (0)
#define DEVICE_ENTER(fn, dev)                  \
  do {                                         \
    ENTER(fn);                                 \
    if (!(dev)) return 2; /* INVALID_ARGUMENT */ \
    if (lost()) return 15; /* GPU_IS_LOST */   \
  } while (0)

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlInit_v2(void) {
  if (fails("nvmlInit_v2")) return 9; /* DRIVER_NOT_LOADED */
  initialized++;
  const char *t = getenv("NVML_STUB_TEMP");
  if (t) devices[0].temp = (unsigned int)atoi(t);
  const char *e = getenv("NVML_STUB_ECC_UNCORRECTED");
  if (e) devices[0].ecc_unc = strtoull(e, NULL, 10);
  return 0;
}

nvmlReturn_t nvmlShutdown(void) {
  if (!initialized) return 1;
  initialized--;
  return 0;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  ENTER("nvmlDeviceGetCount_v2");
  *count = 2;
  return 0;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  ENTER("nvmlDeviceGetHandleByIndex_v2");
  if (index >= 2) return 2;
  *device = &devices[index];
  return 0;
}

static nvmlReturn_t copy_string(const char *s, char *out, unsigned int length) {
  if (strlen(s) + 1 > length) return 7;
  strcpy(out, s);
  return 0;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
  DEVICE_ENTER("nvmlDeviceGetName", d);
  return copy_string(d->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
  DEVICE_ENTER("nvmlDeviceGetUUID", d);
  return copy_string(d->uuid, uuid, length);
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned int *index) {
  DEVICE_ENTER("nvmlDeviceGetIndex", d);
  *index = (unsigned int)d->index;
  return 0;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  DEVICE_ENTER("nvmlDeviceGetUtilizationRates", d);
  /* As on real drivers: utilisation is not reported for MIG instances or GPUs in MIG mode. */
  if (d->is_mig || d->mig_mode) return 3;
  u->gpu = d->util_gpu;
  u->memory = d->util_mem;
  return 0;
}

/* v1 counts the driver reservation as used; v2 reports it separately (nvidia-smi's view). */
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  DEVICE_ENTER("nvmlDeviceGetMemoryInfo", d);
  m->total = d->total;
  m->used = d->used + d->reserved;
  m->free = d->total - m->used;
  return 0;
}

#ifndef NVML_STUB_NO_MEMORY_V2
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
  DEVICE_ENTER("nvmlDeviceGetMemoryInfo_v2", d);
  if (m->version != (unsigned int)(sizeof(nvmlMemory_v2_t) | (2 << 24))) return 25; /* ARGUMENT_VERSION_MISMATCH */
  m->total = d->total;
  m->reserved = d->reserved;
  m->used = d->used;
  m->free = d->total - d->reserved - d->used;
  return 0;
}
#endif

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *temp) {
  DEVICE_ENTER("nvmlDeviceGetTemperature", d);
  if (sensor != 0) return 2;
  if (d->is_mig) return 3;
  *temp = d->temp;
  return 0;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  DEVICE_ENTER("nvmlDeviceGetPowerUsage", d);
  if (d->is_mig) return 3;
  *mw = d->power_mw;
  return 0;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) {
  DEVICE_ENTER("nvmlDeviceGetEnforcedPowerLimit", d);
  if (d->is_mig) return 3;
  *mw = d->limit_mw;
  return 0;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
  DEVICE_ENTER("nvmlDeviceGetClockInfo", d);
  if (type != 1) return 3;
  if (d->is_mig) return 3;
  *mhz = d->sm_clock;
  return 0;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *r) {
  DEVICE_ENTER("nvmlDeviceGetCurrentClocksEventReasons", d);
  if (d->is_mig) return 3;
  *r = d->reasons;
  return 0;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int errorType, int counterType, unsigned long long *count) {
  DEVICE_ENTER("nvmlDeviceGetTotalEccErrors", d);
  if (counterType != 0 && counterType != 1) return 2;
  if (d->is_mig) return 3;
  *count = errorType == 1 ? d->ecc_unc : d->ecc_cor;
  return 0;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
  DEVICE_ENTER("nvmlDeviceGetMigMode", d);
  if (d->is_mig) return 3;
  *current = d->mig_mode;
  *pending = d->mig_mode;
  return 0;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
  DEVICE_ENTER("nvmlDeviceGetMaxMigDeviceCount", d);
  *count = d->mig_mode ? 7 : 0;
  return 0;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig) {
  DEVICE_ENTER("nvmlDeviceGetMigDeviceHandleByIndex", d);
  if (!d->mig_mode) return 3;
  if (index >= 7) return 2;
  if (index >= 2) return 6; /* NOT_FOUND: an empty slot */
  *mig = &devices[2 + index];
  return 0;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int *id) {
  DEVICE_ENTER("nvmlDeviceGetGpuInstanceId", d);
  if (!d->is_mig) return 3;
  *id = d->gi_id;
  return 0;
}

nvmlReturn_t nvmlDeviceGetAttributes_v2(nvmlDevice_t d, nvmlDeviceAttributes_t *a) {
  DEVICE_ENTER("nvmlDeviceGetAttributes_v2", d);
  memset(a, 0, sizeof(*a));
  a->gpuInstanceSliceCount = d->slices;
  a->computeInstanceSliceCount = d->slices;
  a->multiprocessorCount = d->slices * 14;
  a->memorySizeMB = d->total / MIB;
  return 0;
}
