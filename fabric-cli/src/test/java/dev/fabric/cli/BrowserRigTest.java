package dev.fabric.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The browser tests' run, skip or fail decision, without a browser. */
class BrowserRigTest {

    @Test
    void runsWhereChromiumAndItsDriverAreInstalled() {
        assertThat(new BrowserRig(true, true, true).verdict()).isInstanceOf(BrowserRig.Verdict.Run.class);
        assertThat(new BrowserRig(true, true, false).verdict()).isInstanceOf(BrowserRig.Verdict.Run.class);
    }

    @Test
    void skipsWhereEitherIsMissingUnlessCiRequiresThem() {
        assertThat(new BrowserRig(false, true, false).verdict()).isInstanceOfSatisfying(BrowserRig.Verdict.Skip.class,
                skip -> assertThat(skip.message()).contains("/usr/bin/chromium", "chromium-driver", "FABRIC_REQUIRE_BROWSER=1"));
        assertThat(new BrowserRig(true, false, true).verdict()).isInstanceOfSatisfying(BrowserRig.Verdict.Fail.class,
                fail -> assertThat(fail.message()).contains("/usr/bin/chromedriver", "FABRIC_REQUIRE_BROWSER=1 makes this a failure"));
    }

    @Test
    void onlyOneOrTrueRequiresTheBrowser() {
        assertThat(BrowserRig.requiredBy(Map.of())).isFalse();
        assertThat(BrowserRig.requiredBy(Map.of("FABRIC_REQUIRE_BROWSER", "0"))).isFalse();
        assertThat(BrowserRig.requiredBy(Map.of("FABRIC_REQUIRE_BROWSER", "1"))).isTrue();
        assertThat(BrowserRig.requiredBy(Map.of("FABRIC_REQUIRE_BROWSER", "true"))).isTrue();
    }
}
