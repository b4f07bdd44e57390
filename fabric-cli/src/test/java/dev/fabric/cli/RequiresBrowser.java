package dev.fabric.cli;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that drives Debian's headless Chromium: skipped where it is not installed, failed instead
 * when {@code FABRIC_REQUIRE_BROWSER=1} (CI), so CI never passes by skipping the browser tests.
 * An execution condition, so a skipped class never starts its {@code @BeforeAll} fabric.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresBrowser.Condition.class)
@interface RequiresBrowser {

    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return switch (BrowserRig.probe().verdict()) {
                case BrowserRig.Verdict.Run() -> ConditionEvaluationResult.enabled("chromium and chromedriver are installed");
                case BrowserRig.Verdict.Skip(String message) -> ConditionEvaluationResult.disabled(message);
                case BrowserRig.Verdict.Fail(String message) -> throw new IllegalStateException(message);
            };
        }
    }
}
