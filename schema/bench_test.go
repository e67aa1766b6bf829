package schema

import "testing"

func BenchmarkParseDateISO(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := ParseDate("2022-05-04T12:00:00.123Z", nil); !ok {
			b.Fatal("parse")
		}
	}
}

func BenchmarkParseDateMillis(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := ParseDate("1516116808349", nil); !ok {
			b.Fatal("parse")
		}
	}
}

func BenchmarkCompareVersion(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		CompareVersion("1.11.3", "1.2.4-SNAPSHOT")
	}
}
