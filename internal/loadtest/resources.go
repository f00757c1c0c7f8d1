package loadtest

import (
	"os"
	"time"
)

// resources samples the CPU time of the three parties on the machine: the bot process, this
// process (load generator and Slack emulator), and the Postgres server when it is ours.
type resources struct {
	botPID      int
	postmaster  int // 0 when Postgres is not ours to measure
	selfPID     int
	unavailable bool
}

type cpuSample struct {
	at                      time.Time
	bot, gen, pg            float64
	machineBusy, machineAll float64
}

// usage is CPU spent between two samples, in seconds, and as a percentage of one core.
type usage struct {
	Wall        time.Duration
	Bot         float64
	Gen         float64
	Postgres    float64
	MachineBusy float64
	MachineAll  float64
}

func (r *resources) sample() cpuSample {
	s := cpuSample{at: time.Now()}
	var err error
	if s.bot, err = procCPU(r.botPID, false); err != nil {
		r.unavailable = true
	}
	s.gen, _ = procCPU(r.selfPID, false)
	if r.postmaster > 0 {
		s.pg, _ = treeCPU(r.postmaster)
	}
	s.machineBusy, s.machineAll, _ = machineCPU()
	return s
}

func (r *resources) since(before cpuSample) usage {
	now := r.sample()
	return usage{
		Wall:        now.at.Sub(before.at),
		Bot:         now.bot - before.bot,
		Gen:         now.gen - before.gen,
		Postgres:    now.pg - before.pg,
		MachineBusy: now.machineBusy - before.machineBusy,
		MachineAll:  now.machineAll - before.machineAll,
	}
}

func newResources(botPID, postmaster int) *resources {
	return &resources{botPID: botPID, postmaster: postmaster, selfPID: os.Getpid()}
}
