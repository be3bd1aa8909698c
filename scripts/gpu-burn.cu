// Keeps one GPU busy for a given time so the NVML proof (docs/GPU-PROOF.md) also compares fields
// that only move under load: utilisation, memory used, SM clock, power, throttle reasons.
// Build: nvcc -O2 -arch=sm_90 -o .device/gpu-burn scripts/gpu-burn.cu   (cudart is linked statically)
// Run:   ./gpu-burn SECONDS GIB
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cuda_runtime.h>

__global__ void burn(float *data, size_t n, int iterations) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= n) return;
  float x = data[i];
  for (int k = 0; k < iterations; k++) x = x * 0.999999f + 0.000001f;
  data[i] = x;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 30;
  size_t gib = argc > 2 ? strtoull(argv[2], nullptr, 10) : 8;
  size_t n = gib * (1ull << 30) / sizeof(float);
  float *data = nullptr;
  if (cudaMalloc(&data, n * sizeof(float)) != cudaSuccess) {
    fprintf(stderr, "cudaMalloc of %zu GiB failed\n", gib);
    return 1;
  }
  cudaMemset(data, 0, n * sizeof(float));
  const size_t chunk = 1ull << 26;  // elements per launch
  time_t start = time(nullptr);
  size_t launches = 0;
  while (difftime(time(nullptr), start) < seconds) {
    for (size_t off = 0; off < n; off += chunk) {
      size_t len = n - off < chunk ? n - off : chunk;
      burn<<<(unsigned)((len + 255) / 256), 256>>>(data + off, len, 2000);
      launches++;
    }
    cudaDeviceSynchronize();
  }
  cudaError_t err = cudaGetLastError();
  printf("{\"seconds\": %.0f, \"gib\": %zu, \"launches\": %zu, \"error\": \"%s\"}\n", seconds, gib, launches,
         cudaGetErrorString(err));
  cudaFree(data);
  return err == cudaSuccess ? 0 : 1;
}
