package deploycheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type k8sMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type k8sPodTemplate struct {
	Metadata k8sMeta `yaml:"metadata"`
	Spec     struct {
		TerminationGracePeriodSeconds *int   `yaml:"terminationGracePeriodSeconds"`
		RestartPolicy                 string `yaml:"restartPolicy"`
		SecurityContext               struct {
			RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
			SeccompProfile struct {
				Type string `yaml:"type"`
			} `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		Containers []k8sContainer `yaml:"containers"`
	} `yaml:"spec"`
}

type k8sObject struct {
	Kind     string            `yaml:"kind"`
	Metadata k8sMeta           `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
	// StringData is a Secret's.
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		// Deployment and Job.
		Replicas *int           `yaml:"replicas"`
		Template k8sPodTemplate `yaml:"template"`
		// PodDisruptionBudget.
		MinAvailable any `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		// Service: its selector is a plain map, read separately.
		Type  string `yaml:"type"`
		Ports []struct {
			Name       string `yaml:"name"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type k8sService struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
	} `yaml:"spec"`
}

type kustomization struct {
	Resources []string `yaml:"resources"`
}

const k8sDir = "deploy/kubernetes"

// k8sObjects loads every object in the kustomization's resources, keyed by kind.
func k8sObjects(t *testing.T) map[string][]k8sObject {
	t.Helper()
	var k kustomization
	load(t, filepath.Join(k8sDir, "kustomization.yaml"), &k)
	objs := map[string][]k8sObject{}
	for _, res := range k.Resources {
		docs, err := decodeAll(read(t, filepath.Join(k8sDir, res)))
		if err != nil {
			t.Fatalf("%s: %v", res, err)
		}
		for _, d := range docs {
			var o k8sObject
			if err := d.Decode(&o); err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			if o.Kind == "Service" {
				var s k8sService
				if err := d.Decode(&s); err != nil {
					t.Fatal(err)
				}
				o.Spec.Selector.MatchLabels = s.Spec.Selector
			}
			objs[o.Kind] = append(objs[o.Kind], o)
		}
	}
	return objs
}

func one(t *testing.T, objs map[string][]k8sObject, kind string) k8sObject {
	t.Helper()
	if len(objs[kind]) != 1 {
		t.Fatalf("the kustomization has %d %s objects, want 1", len(objs[kind]), kind)
	}
	return objs[kind][0]
}

// subset reports whether every label in sel is in labels, i.e. sel selects those pods.
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkHardened asserts the pod and container security settings both workloads need.
func checkHardened(t *testing.T, what string, pod k8sPodTemplate) {
	t.Helper()
	ps := pod.Spec.SecurityContext
	if ps.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: seccompProfile %q, want RuntimeDefault", what, ps.SeccompProfile.Type)
	}
	for _, c := range pod.Spec.Containers {
		cs := c.SecurityContext
		if !(ps.RunAsNonRoot != nil && *ps.RunAsNonRoot) && !(cs.RunAsNonRoot != nil && *cs.RunAsNonRoot) {
			t.Errorf("%s/%s: runAsNonRoot is not set", what, c.Name)
		}
		if cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", what, c.Name)
		}
		if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", what, c.Name)
		}
		if !slices.Contains(cs.Capabilities.Drop, "ALL") {
			t.Errorf("%s/%s: capabilities do not drop ALL", what, c.Name)
		}
		for _, r := range []string{"cpu", "memory"} {
			if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
				t.Errorf("%s/%s: no %s request and limit", what, c.Name, r)
			}
		}
	}
}

// envValue finds name in the container's env or in a ConfigMap it loads with envFrom.
func envValue(c k8sContainer, configMaps []k8sObject, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		for _, cm := range configMaps {
			if v, ok := cm.Data[name]; ok && cm.Metadata.Name == ef.ConfigMapRef.Name {
				return v, true
			}
		}
	}
	return "", false
}

func TestKubernetesDeployment(t *testing.T) {
	t.Parallel()
	objs := k8sObjects(t)
	d := one(t, objs, "Deployment")
	pod := d.Spec.Template

	// Each replica is one Socket Mode connection; one alone is one restart from an outage.
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 || *d.Spec.Replicas > 10 {
		t.Errorf("replicas = %v, want 2 to 10 (Slack allows 10 connections)", d.Spec.Replicas)
	}
	if !subset(d.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Error("the Deployment's selector does not match its pod labels")
	}
	// The bot drains and exits within 10 s of SIGTERM.
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 10 || *g > 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want a little over 10", g)
	}
	checkHardened(t, "Deployment", pod)
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("the pod has %d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("container args %q, want [serve]", c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports %+v, want only http on 8080", c.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *k8sProbe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != "http" {
			t.Errorf("%s probe GETs %v %s, want http %s", p.name, p.probe.HTTPGet.Port, p.probe.HTTPGet.Path, p.path)
		}
	}
	if v, ok := envValue(c, objs["ConfigMap"], "MIGRATE_ON_START"); !ok || v != "false" {
		t.Errorf("MIGRATE_ON_START = %q (set: %v), want \"false\": the Job migrates", v, ok)
	}
	var secretRef bool
	for _, ef := range c.EnvFrom {
		secretRef = secretRef || (ef.SecretRef != nil && ef.SecretRef.Name == "pathbot-secrets")
	}
	if !secretRef {
		t.Error("the container does not load the pathbot-secrets Secret")
	}

	pdb := one(t, objs, "PodDisruptionBudget")
	if pdb.Spec.MinAvailable != 1 {
		t.Errorf("PodDisruptionBudget minAvailable = %v, want 1", pdb.Spec.MinAvailable)
	}
	if !subset(pdb.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Error("the PodDisruptionBudget does not select the bot's pods")
	}

	svc := one(t, objs, "Service")
	if svc.Spec.Type != "" && svc.Spec.Type != "ClusterIP" {
		t.Errorf("Service type %s: it exists for metrics scraping inside the cluster only", svc.Spec.Type)
	}
	if !subset(svc.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Error("the metrics Service does not select the bot's pods")
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("Service ports %+v, want one targeting http", svc.Spec.Ports)
	}
}

func TestKubernetesMigrationJob(t *testing.T) {
	t.Parallel()
	objs := k8sObjects(t)
	job := one(t, objs, "Job")
	pod := job.Spec.Template
	if rp := pod.Spec.RestartPolicy; rp != "Never" && rp != "OnFailure" {
		t.Errorf("Job restartPolicy %q", rp)
	}
	checkHardened(t, "Job", pod)
	if len(pod.Spec.Containers) != 1 || !slices.Equal(pod.Spec.Containers[0].Args, []string{"migrate"}) {
		t.Error("the Job does not run `pathbot migrate`")
	}
	d := one(t, objs, "Deployment")
	if pod.Spec.Containers[0].Image != d.Spec.Template.Spec.Containers[0].Image {
		t.Error("the Job and the Deployment use different images")
	}
}

func TestKubernetesKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	var k kustomization
	load(t, filepath.Join(k8sDir, "kustomization.yaml"), &k)
	entries, err := os.ReadDir(filepath.Join(root(t), k8sDir))
	if err != nil {
		t.Fatal(err)
	}
	// Not applied by default: the Secret template holds placeholders, and the ServiceMonitor needs
	// the Prometheus Operator's CRD.
	optional := []string{"kustomization.yaml", "secret.example.yaml", "servicemonitor.yaml"}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".yaml") || slices.Contains(optional, name) {
			continue
		}
		if !slices.Contains(k.Resources, name) {
			t.Errorf("%s is not in kustomization.yaml resources", name)
		}
	}
	if slices.Contains(k.Resources, "secret.example.yaml") {
		t.Error("kustomization.yaml applies the Secret template")
	}
}

// realToken matches the shape of real Slack tokens, which must never be committed.
var realToken = regexp.MustCompile(`xox[abpr]-[0-9]+-|xapp-[0-9]+-`)

func TestKubernetesSecretIsAPlaceholder(t *testing.T) {
	t.Parallel()
	var s k8sObject
	load(t, filepath.Join(k8sDir, "secret.example.yaml"), &s)
	if s.Kind != "Secret" || s.Metadata.Name != "pathbot-secrets" {
		t.Fatalf("secret.example.yaml holds %s %s, want Secret pathbot-secrets", s.Kind, s.Metadata.Name)
	}
	for _, k := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "DATABASE_URL"} {
		v, ok := s.StringData[k]
		if !ok {
			t.Errorf("the Secret template lacks %s", k)
		}
		if !strings.Contains(v, "REPLACE-ME") || realToken.MatchString(v) {
			t.Errorf("the Secret template's %s does not look like a placeholder: %q", k, v)
		}
	}
}
