package report

import (
	"encoding/xml"
	"strings"
)

// The JUnit XML shape CI systems read (Jenkins, GitLab, GitHub test
// reporters; the de-facto schema of Ant's JUnit task, e.g. windyroad's
// JUnit.xsd): testsuites > testsuite > testcase, a failure or error
// element in a failing case with a message attribute and a text body.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junit is junit.xml: a test suite per gated run, a test case per rule
// (and one for the baseline's comparability when there is a baseline).
func (rep *Report) junit() ([]byte, error) {
	all := junitSuites{Name: "segtool report"}
	for _, v := range rep.Verdicts {
		s := junitSuite{Name: "segtool gate: " + v.Run, Time: "0"}
		class := "segtool.gate." + strings.ReplaceAll(v.Run, "/", ".")
		if rep.Baseline != nil {
			s.Properties = append(s.Properties, junitProperty{Name: "baseline", Value: rep.Baseline.Name})
		}
		s.Properties = append(s.Properties, rep.apProperties(v.Run)...)
		for _, c := range v.Checks {
			jc := junitCase{Name: c.Rule, Classname: class, Time: "0"}
			detail := c.Message + "\n(rule at " + c.Source + ")"
			switch c.Status {
			case Fail:
				jc.Failure = &junitProblem{Message: c.Message, Type: "regression", Text: detail}
				s.Failures++
			case Error:
				jc.Error = &junitProblem{Message: c.Message, Type: "bad input", Text: detail}
				s.Errors++
			default:
				jc.SystemOut = c.Message
			}
			s.Cases = append(s.Cases, jc)
		}
		if rep.Baseline != nil {
			jc := junitCase{Name: "baseline is comparable", Classname: class, Time: "0"}
			msg := strings.Join(v.Warnings, "\n")
			switch {
			case v.Refused:
				jc.Error = &junitProblem{Message: v.Warnings[0], Type: "bad input (strict)", Text: msg}
				s.Errors++
			case len(v.Warnings) > 0:
				jc.SystemOut = "WARNING: " + msg
			default:
				jc.SystemOut = "same metric definitions, dataset manifest, splits and model spec"
			}
			s.Cases = append(s.Cases, jc)
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Suites = append(all.Suites, s)
	}
	if len(all.Suites) == 0 {
		all.Suites = append(all.Suites, junitSuite{Name: "segtool gate", Time: "0", SystemOut: "no gate: no rules were given"})
	}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}
