package detect

import (
	"math"
	"strings"
)

// objectArrayIntersection is Kibana's objectArrayIntersection (as of the
// version that treats "a.b" keys and nested {"a":{"b"}} alike): the fields
// whose values all objects share, pairwise from the first. Arrays
// intersect element-wise; objects inside arrays never compare equal (they
// are compared by reference in JavaScript). nil means no common field.
func objectArrayIntersection(objs []*jobj) *jobj {
	if len(objs) == 0 {
		return nil
	}
	acc := &jobj{keys: append([]string(nil), objs[0].keys...), vals: append([]*jv(nil), objs[0].vals...)}
	for _, o := range objs[1:] {
		if acc = objectPairIntersection(acc, o); acc == nil {
			return nil
		}
	}
	return acc
}

type pathValue struct {
	path []string
	v    *jv
}

// flattenPaths lists the leaves of o with their paths, splitting dotted
// keys, in the order of Kibana's stack walk (an object's own leaves first,
// nested objects afterwards, last pushed first). dotted holds the paths
// whose leaf key itself contained a dot.
func flattenPaths(o *jobj) (pvs []pathValue, dotted map[string]bool) {
	dotted = map[string]bool{}
	type frame struct {
		o      *jobj
		prefix []string
	}
	stack := []frame{{o, nil}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i, k := range f.o.keys {
			v := f.o.vals[i]
			path := append(append([]string(nil), f.prefix...), strings.Split(k, ".")...)
			if v.kind == jObject {
				stack = append(stack, frame{v.obj, path})
				continue
			}
			pvs = append(pvs, pathValue{path, v})
			if strings.IndexByte(k, '.') >= 0 {
				dotted[strings.Join(path, ".")] = true
			}
		}
	}
	return pvs, dotted
}

// setPath is lodash's set: intermediate non-objects are replaced by objects.
func setPath(o *jobj, path []string, v *jv) {
	for _, k := range path[:len(path)-1] {
		next, ok := o.get(k)
		if !ok || next.kind != jObject {
			next = jObjV(newObj())
			o.set(k, next)
		}
		o = next.obj
	}
	o.set(path[len(path)-1], v)
}

func unflatten(pvs []pathValue) *jobj {
	o := newObj()
	for _, pv := range pvs {
		setPath(o, pv.path, pv.v)
	}
	return o
}

func objectPairIntersection(a, b *jobj) *jobj {
	apv, adot := flattenPaths(a)
	bpv, bdot := flattenPaths(b)
	inter := newObj()
	intersectInto(inter, unflatten(apv), unflatten(bpv))
	pruneEmpty(inter)
	defined := false
	for _, v := range inter.vals {
		if v.kind != jUndef {
			defined = true
		}
	}
	if !defined {
		return nil
	}
	// Paths dotted in both inputs stay dotted keys; the rest are nested.
	pvs, _ := flattenPaths(inter)
	out := newObj()
	for _, pv := range pvs {
		if p := strings.Join(pv.path, "."); adot[p] && bdot[p] {
			out.set(p, pv.v)
		} else {
			setPath(out, pv.path, pv.v)
		}
	}
	return out
}

func intersectInto(target, a, b *jobj) {
	for i, k := range a.keys {
		bv, ok := b.get(k)
		if !ok {
			continue
		}
		av := a.vals[i]
		switch {
		case av.kind == jObject && bv.kind == jObject:
			next := newObj()
			target.set(k, jObjV(next))
			intersectInto(next, av.obj, bv.obj)
		case strictEqual(av, bv):
			target.set(k, av)
		case av.kind == jArray || bv.kind == jArray:
			target.set(k, arrayIntersection(asArray(av), asArray(bv)))
		}
	}
}

func asArray(v *jv) []*jv {
	if v.kind == jArray {
		return v.arr
	}
	return []*jv{v}
}

// strictEqual is JavaScript's ===: scalars by value, arrays and objects by
// identity.
func strictEqual(a, b *jv) bool {
	if a == b {
		return a.kind != jNumber || !math.IsNaN(a.num())
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case jNull, jUndef:
		return true
	case jBool:
		return a.b == b.b
	case jString:
		return a.s == b.s
	case jNumber:
		return a.num() == b.num()
	}
	return false
}

// sameValueZero is lodash's element equality (NaN equals NaN).
func sameValueZero(a, b *jv) bool {
	if a.kind == jNumber && b.kind == jNumber && math.IsNaN(a.num()) && math.IsNaN(b.num()) {
		return true
	}
	return a == b || strictEqual(a, b)
}

// arrayIntersection is lodash's intersection: the distinct elements of a,
// in order, that b holds.
func arrayIntersection(a, b []*jv) *jv {
	out := &jv{kind: jArray, arr: []*jv{}}
	for _, x := range a {
		dup := false
		for _, y := range out.arr {
			if sameValueZero(x, y) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		for _, y := range b {
			if sameValueZero(x, y) {
				out.arr = append(out.arr, x)
				break
			}
		}
	}
	return out
}

// pruneEmpty removes nested objects left empty (or all undefined).
func pruneEmpty(o *jobj) {
	for i := 0; i < len(o.keys); i++ {
		v := o.vals[i]
		if v.kind != jObject {
			continue
		}
		pruneEmpty(v.obj)
		empty := true
		for _, e := range v.obj.vals {
			if e.kind != jUndef {
				empty = false
				break
			}
		}
		if empty {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			o.vals = append(o.vals[:i], o.vals[i+1:]...)
			i--
		}
	}
}
