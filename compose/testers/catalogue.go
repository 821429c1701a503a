package testers

// The catalogue is a hand-made, survey-shaped picture of gaming and laptop
// hardware in 2025-26; weights are relative shares within their list. It only
// has to be plausible and self-consistent, not exact.

type osVersion struct {
	family OS
	name   string
	weight float64
}

var osCatalogue = []osVersion{
	{Windows, "Windows 11 23H2", 28},
	{Windows, "Windows 11 24H2", 22},
	{Windows, "Windows 10 22H2", 30},
	{MacOS, "macOS 14 Sonoma", 5},
	{MacOS, "macOS 15 Sequoia", 6},
	{Linux, "Ubuntu 24.04 LTS", 2.5},
	{Linux, "Ubuntu 22.04 LTS", 2},
	{Linux, "Fedora 41", 1},
	{Linux, "Arch Linux", 1.5},
	{Linux, "Linux Mint 22", 1},
	{Linux, "Debian 12", 0.5},
}

type gpuModel struct {
	vendor GPUVendor
	name   string
	weight float64
	os     []OS
	// vram lists the dedicated memory sizes sold; nil means the GPU shares
	// system memory (integrated or Apple unified memory).
	vram []int
	// bandwidthGBs drives NAR decode speed, which is memory bound.
	bandwidthGBs float64
	// ram lists the system memory sizes sold with it (GiB); nil means
	// defaultRAM.
	ram []int
	// cpus restricts the CPU: integrated and Apple GPUs come with their own.
	cpus []string
	// mobile GPUs go with laptop CPUs, desktop GPUs with desktop CPUs.
	mobile bool
}

// vramFor gives the GPU memory sizes possible with ram GiB of system memory.
func (g gpuModel) vramFor(ramGiB int) []int {
	if g.vram != nil {
		return g.vram
	}
	return []int{sharedVRAM(g.vendor, ramGiB)}
}

// sharedVRAM is what a memory-sharing GPU may use: macOS lets Metal use about
// three quarters of unified memory, Windows and Linux drivers half of RAM.
func sharedVRAM(v GPUVendor, ramGiB int) int {
	if v == Apple {
		return ramGiB * 1024 * 3 / 4
	}
	return ramGiB * 1024 / 2
}

type cpuModel struct {
	name   string
	cores  []int
	weight float64
	// memBWGBs is the system memory bandwidth, which bounds the CPU backend.
	memBWGBs float64
	mobile   bool
	// apple CPUs only come with their own GPU.
	apple bool
}

// defaultRAM and defaultRAMWeights are system memory sizes (GiB) for GPUs
// without their own list.
var (
	defaultRAM        = []int{8, 16, 32, 64}
	defaultRAMWeights = []float64{0.1, 0.45, 0.37, 0.08}
)

var (
	windowsLinux = []OS{Windows, Linux}
	macOnly      = []OS{MacOS}
)

var gpuCatalogue = []gpuModel{
	{vendor: NVIDIA, name: "NVIDIA GeForce GTX 1650", weight: 5, os: windowsLinux, vram: []int{4096}, bandwidthGBs: 128},
	{vendor: NVIDIA, name: "NVIDIA GeForce GTX 1660 SUPER", weight: 3, os: windowsLinux, vram: []int{6144}, bandwidthGBs: 336},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 2060", weight: 3, os: windowsLinux, vram: []int{6144, 12288}, bandwidthGBs: 336},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 3060", weight: 8, os: windowsLinux, vram: []int{8192, 12288}, bandwidthGBs: 360},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 3070", weight: 4, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 448},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4060", weight: 7, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 272},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4060 Ti", weight: 4, os: windowsLinux, vram: []int{8192, 16384}, bandwidthGBs: 288},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4070", weight: 4, os: windowsLinux, vram: []int{12288}, bandwidthGBs: 504, ram: []int{16, 32, 64}},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4070 SUPER", weight: 3, os: windowsLinux, vram: []int{12288}, bandwidthGBs: 504, ram: []int{16, 32, 64}},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4080 SUPER", weight: 1.5, os: windowsLinux, vram: []int{16384}, bandwidthGBs: 736, ram: []int{32, 64}},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4090", weight: 1, os: windowsLinux, vram: []int{24576}, bandwidthGBs: 1008, ram: []int{32, 64}},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 3050 Laptop GPU", weight: 3, os: windowsLinux, vram: []int{4096}, bandwidthGBs: 192, ram: []int{8, 16}, mobile: true},
	{vendor: NVIDIA, name: "NVIDIA GeForce RTX 4060 Laptop GPU", weight: 3, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 256, ram: []int{16, 32}, mobile: true},
	{vendor: AMD, name: "AMD Radeon RX 6600", weight: 2.5, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 224},
	{vendor: AMD, name: "AMD Radeon RX 6700 XT", weight: 1.5, os: windowsLinux, vram: []int{12288}, bandwidthGBs: 384},
	{vendor: AMD, name: "AMD Radeon RX 7600", weight: 1.5, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 288},
	{vendor: AMD, name: "AMD Radeon RX 7800 XT", weight: 1.2, os: windowsLinux, vram: []int{16384}, bandwidthGBs: 624, ram: []int{16, 32, 64}},
	{vendor: AMD, name: "AMD Radeon RX 7900 XTX", weight: 0.7, os: windowsLinux, vram: []int{24576}, bandwidthGBs: 960, ram: []int{32, 64}},
	{vendor: AMD, name: "AMD Radeon 780M", weight: 1.5, os: windowsLinux, bandwidthGBs: 90, ram: []int{16, 32}, cpus: []string{"AMD Ryzen 7 7840HS", "AMD Ryzen 7 7840U"}, mobile: true},
	{vendor: Intel, name: "Intel Arc A750", weight: 0.5, os: windowsLinux, vram: []int{8192}, bandwidthGBs: 512},
	{vendor: Intel, name: "Intel Arc A770", weight: 0.4, os: windowsLinux, vram: []int{16384}, bandwidthGBs: 560, ram: []int{16, 32}},
	{vendor: Intel, name: "Intel Iris Xe Graphics", weight: 3, os: windowsLinux, bandwidthGBs: 68, ram: []int{8, 16, 32}, cpus: []string{"Intel Core i5-1135G7", "Intel Core i7-1165G7", "Intel Core i7-1260P"}, mobile: true},
	{vendor: Intel, name: "Intel UHD Graphics 770", weight: 1, os: windowsLinux, bandwidthGBs: 76, ram: []int{8, 16, 32}, cpus: []string{"Intel Core i5-12400", "Intel Core i7-12700"}},
	{vendor: Apple, name: "Apple M1", weight: 3, os: macOnly, bandwidthGBs: 68, ram: []int{8, 16}, cpus: []string{"Apple M1"}, mobile: true},
	{vendor: Apple, name: "Apple M1 Pro", weight: 1.5, os: macOnly, bandwidthGBs: 200, ram: []int{16, 32}, cpus: []string{"Apple M1 Pro"}, mobile: true},
	{vendor: Apple, name: "Apple M2", weight: 2.5, os: macOnly, bandwidthGBs: 100, ram: []int{8, 16, 24}, cpus: []string{"Apple M2"}, mobile: true},
	{vendor: Apple, name: "Apple M2 Pro", weight: 1.2, os: macOnly, bandwidthGBs: 200, ram: []int{16, 32}, cpus: []string{"Apple M2 Pro"}, mobile: true},
	{vendor: Apple, name: "Apple M3", weight: 2, os: macOnly, bandwidthGBs: 100, ram: []int{8, 16, 24}, cpus: []string{"Apple M3"}, mobile: true},
	{vendor: Apple, name: "Apple M3 Pro", weight: 1, os: macOnly, bandwidthGBs: 150, ram: []int{18, 36}, cpus: []string{"Apple M3 Pro"}, mobile: true},
	{vendor: Apple, name: "Apple M3 Max", weight: 0.5, os: macOnly, bandwidthGBs: 400, ram: []int{36, 48, 64, 128}, cpus: []string{"Apple M3 Max"}, mobile: true},
	{vendor: Apple, name: "Apple M4", weight: 1.5, os: macOnly, bandwidthGBs: 120, ram: []int{16, 24, 32}, cpus: []string{"Apple M4"}, mobile: true},
	{vendor: Apple, name: "Apple M4 Pro", weight: 0.8, os: macOnly, bandwidthGBs: 273, ram: []int{24, 48}, cpus: []string{"Apple M4 Pro"}, mobile: true},
}

var cpuCatalogue = []cpuModel{
	{name: "Intel Core i5-12400F", cores: []int{6}, weight: 5, memBWGBs: 55},
	{name: "Intel Core i5-12400", cores: []int{6}, weight: 2, memBWGBs: 55},
	{name: "Intel Core i7-12700", cores: []int{12}, weight: 2, memBWGBs: 60},
	{name: "Intel Core i5-13400F", cores: []int{10}, weight: 5, memBWGBs: 60},
	{name: "Intel Core i7-13700K", cores: []int{16}, weight: 4, memBWGBs: 75},
	{name: "Intel Core i9-13900K", cores: []int{24}, weight: 2, memBWGBs: 80},
	{name: "Intel Core i7-14700K", cores: []int{20}, weight: 3, memBWGBs: 80},
	{name: "Intel Core i5-1135G7", cores: []int{4}, weight: 2, memBWGBs: 50, mobile: true},
	{name: "Intel Core i7-1165G7", cores: []int{4}, weight: 1.5, memBWGBs: 50, mobile: true},
	{name: "Intel Core i7-1260P", cores: []int{12}, weight: 1, memBWGBs: 60, mobile: true},
	{name: "Intel Core i7-13700H", cores: []int{14}, weight: 1.5, memBWGBs: 65, mobile: true},
	{name: "AMD Ryzen 5 5600X", cores: []int{6}, weight: 6, memBWGBs: 45},
	{name: "AMD Ryzen 7 5800X3D", cores: []int{8}, weight: 4, memBWGBs: 45},
	{name: "AMD Ryzen 5 7600X", cores: []int{6}, weight: 4, memBWGBs: 70},
	{name: "AMD Ryzen 7 7800X3D", cores: []int{8}, weight: 5, memBWGBs: 70},
	{name: "AMD Ryzen 9 7950X", cores: []int{16}, weight: 1.5, memBWGBs: 75},
	{name: "AMD Ryzen 7 7840HS", cores: []int{8}, weight: 1.5, memBWGBs: 80, mobile: true},
	{name: "AMD Ryzen 7 7840U", cores: []int{8}, weight: 0.5, memBWGBs: 75, mobile: true},
	{name: "Apple M1", cores: []int{8}, weight: 1, memBWGBs: 68, mobile: true, apple: true},
	{name: "Apple M1 Pro", cores: []int{8, 10}, weight: 1, memBWGBs: 200, mobile: true, apple: true},
	{name: "Apple M2", cores: []int{8}, weight: 1, memBWGBs: 100, mobile: true, apple: true},
	{name: "Apple M2 Pro", cores: []int{10, 12}, weight: 1, memBWGBs: 200, mobile: true, apple: true},
	{name: "Apple M3", cores: []int{8}, weight: 1, memBWGBs: 100, mobile: true, apple: true},
	{name: "Apple M3 Pro", cores: []int{11, 12}, weight: 1, memBWGBs: 150, mobile: true, apple: true},
	{name: "Apple M3 Max", cores: []int{14, 16}, weight: 1, memBWGBs: 400, mobile: true, apple: true},
	{name: "Apple M4", cores: []int{10}, weight: 1, memBWGBs: 120, mobile: true, apple: true},
	{name: "Apple M4 Pro", cores: []int{12, 14}, weight: 1, memBWGBs: 273, mobile: true, apple: true},
}
