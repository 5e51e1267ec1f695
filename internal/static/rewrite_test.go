package static

import (
	"strings"
	"testing"
)

func TestRewriteHTML(t *testing.T) {
	t.Parallel()
	ref := func(s string) (string, bool) {
		if strings.HasPrefix(s, "a") {
			return "X" + s, true
		}
		return "", false
	}
	for _, tt := range []struct{ in, want string }{
		{`<img src=a.png>`, `<img src="Xa.png">`},
		{`<img src='a.png'/>`, `<img src="Xa.png"/>`},
		{`<img SRC = "a.png" alt=a>`, `<img SRC = "Xa.png" alt=a>`},
		{`<img src="a&amp;b.png">`, `<img src="Xa&amp;b.png">`},
		{`<img src="a&quot;.png">`, `<img src="Xa&#34;.png">`},
		{`<img src="  a.png  ">`, `<img src="Xa.png">`},
		{`<img src="b.png" src="a.png">`, `<img src="b.png" src="a.png">`}, // the first counts
		{`<img data-src="a.png">`, `<img data-src="a.png">`},
		{`<img srcset="a.png 1x,b.png 2x, a2.png 3x">`, `<img srcset="Xa.png 1x,b.png 2x, Xa2.png 3x">`},
		{`<img srcset="a.png,a2.png 2x">`, `<img srcset="Xa.png,a2.png 2x">`}, // one URL: no space after the comma
		{`<img srcset="a.png, a2.png 2x,">`, `<img srcset="Xa.png, Xa2.png 2x,">`},
		{`<img srcset=" a.png (x, y) 1x , a2.png">`, `<img srcset=" Xa.png (x, y) 1x , Xa2.png">`},
		{`<script>x = "<img src=a.png>"</script>`, `<script>x = "<img src=a.png>"</script>`},
		{`<style>a{background:url(a.png)}</style><link href=a.css>`, `<style>a{background:url(a.png)}</style><link href="Xa.css">`},
		{`<!-- <img src=a.png> -->`, `<!-- <img src=a.png> -->`},
		{`<textarea><img src=a.png></textarea>`, `<textarea><img src=a.png></textarea>`},
		{`<img src=a.png`, `<img src=a.png`}, // unfinished: not a tag
		{`<p>a</p><img src=`, `<p>a</p><img src=`},
		{`<video poster=a.jpg src=a.mp4>`, `<video poster="Xa.jpg" src="Xa.mp4">`},
		{`<img/src=a.png>`, `<img/src="Xa.png">`},
		{`<img src=>`, `<img src=>`},
	} {
		if got := string(rewriteHTML([]byte(tt.in), ref, ref)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
